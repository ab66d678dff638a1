package org.cachedafs.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.protocol.Status;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: a file system that cannot be opened says why, naming the server. Nothing refused is
 * answered at the end of a time-out: a refused connection, an unknown host, and a peer that answers
 * with something other than DAFS, or closes, fail as soon as that happens (the tests that check this
 * give a minute's connect.timeout, so a regression fails on the status, TIMEDOUT, never on timing);
 * only a peer that says nothing waits, for the connect.timeout. A refused secret says which mistake it
 * was.
 */
class NioConnectErrorsTest {
  @TempDir Path tmp;

  private static final Map<String, String> PATIENT = Map.of("connect.timeout", "60s");

  /** A peer on loopback that is not a DAFS server: it treats each connection as {@code behaviour} says. */
  private static final class NotDafs implements AutoCloseable {
    interface Behaviour {
      void serve(Socket s) throws IOException;
    }

    private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    NotDafs(Behaviour behaviour) throws IOException {
      acceptor = new Thread(() -> {
        try {
          while (true) {
            Socket s = listener.accept();
            accepted.add(s);
            behaviour.serve(s);
          }
        } catch (IOException e) {
          // Closed by the test.
        }
      }, "not-dafs");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    URI uri() {
      return URI.create("dafs://127.0.0.1:" + listener.getLocalPort() + "/");
    }

    String server() {
      return "127.0.0.1:" + listener.getLocalPort();
    }

    @Override
    public void close() throws Exception {
      listener.close();
      for (Socket s : accepted) {
        s.close();
      }
      acceptor.join();
    }
  }

  /** Reads what the client sends until it closes, so that closing leaves nothing unread (which would be a reset). */
  private static void drain(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    while (in.read(new byte[4096]) >= 0) {
      // The client's handshake, ignored.
    }
  }

  private static DafsException failsToOpen(URI uri, Map<String, ?> env) {
    return assertThrows(DafsException.class, () -> FileSystems.newFileSystem(uri, env));
  }

  /** How newFileSystem failed on a peer that treats each connection as {@code behaviour} says. */
  private record Failure(Status status, String message) {}

  /** newFileSystem's failure on a peer that does {@code behaviour}, its address written HOST:PORT in the message. */
  private static Failure failureOn(NotDafs.Behaviour behaviour, Map<String, ?> env) throws Exception {
    try (NotDafs peer = new NotDafs(behaviour)) {
      DafsException e = failsToOpen(peer.uri(), env);
      return new Failure(e.status(), e.getMessage().replace(peer.server(), "HOST:PORT"));
    }
  }

  @Test
  void aPeerThatAnswersWithSomethingElseIsNotADafsServer() throws Exception {
    Failure notDafs = new Failure(Status.CONNECTION_LOST,
        "CONNECTION_LOST (connection lost): HOST:PORT is not a DAFS server: it answered the handshake with something else (bad transport header)");
    assertEquals(notDafs, failureOn(s -> s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), PATIENT),
        "an HTTP server's error, the connection left open");
    assertEquals(notDafs, failureOn(s -> {
      s.getOutputStream().write("SSH-2.0-OpenSSH_9.6\r\n".getBytes(StandardCharsets.US_ASCII));
      s.shutdownOutput();
      drain(s);
    }, PATIENT), "an SSH banner, then the end of the stream");
  }

  @Test
  void aPeerThatClosesWithoutAnAnswerFailsAtOnce() throws Exception {
    assertEquals(new Failure(Status.CONNECTION_LOST, "CONNECTION_LOST (connection lost): HOST:PORT closed the connection during the handshake: "
        + "it is not a DAFS server, or it refused this client (the server's log says why)"), failureOn(s -> {
          s.shutdownOutput();
          drain(s);
        }, PATIENT));
  }

  @Test
  void aPeerThatSaysNothingFailsAtTheConnectTimeout() throws Exception {
    assertEquals(Duration.ofSeconds(10), ClientOptions.defaults().connectTimeout(), "the default, as documented");
    assertEquals(new Failure(Status.TIMEDOUT, "TIMEDOUT (request timed out): HOST:PORT did not answer the handshake within 300 ms: "
        + "it is not a DAFS server, or it is overloaded"), failureOn(s -> { }, Map.of("connect.timeout", "300ms")));
  }

  @Test
  void aRefusedConnectionAndAnUnknownHostNameTheServer() throws IOException {
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    ConnectException refused = assertThrows(ConnectException.class,
        () -> FileSystems.newFileSystem(URI.create("dafs://localhost:" + port + "/"), PATIENT));
    assertEquals("cannot connect to localhost:" + port + ": Connection refused", refused.getMessage());
    UnknownHostException unknown = assertThrows(UnknownHostException.class,
        () -> FileSystems.newFileSystem(URI.create("dafs://nosuch.invalid/"), PATIENT));
    assertEquals("cannot connect to nosuch.invalid:5450: unknown host", unknown.getMessage());
    // The client API says the same.
    unknown = assertThrows(UnknownHostException.class, () -> DafsClient.connect(URI.create("dafs://nosuch.invalid"), ClientOptions.defaults()));
    assertEquals("cannot connect to nosuch.invalid:5450: unknown host", unknown.getMessage());
  }

  @Test
  void eachSecretMistakeIsToldApart() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    try (DafsServer guarded = DafsServer.start(ServerOptions.of(export).withSecret("s3cret".getBytes(StandardCharsets.UTF_8)))) {
      URI uri = URI.create("dafs://127.0.0.1:" + guarded.address().getPort() + "/");
      String refused = "AUTH_FAILED (authentication failed): 127.0.0.1:" + guarded.address().getPort() + " refused the session: ";
      DafsException e = failsToOpen(uri, Map.of());
      assertEquals(Status.AUTH_FAILED, e.status());
      assertEquals(refused + "server requires a secret", e.getMessage());
      assertEquals(refused + "wrong secret", failsToOpen(uri, Map.of("secret", "guess")).getMessage());
      try (FileSystem fs = FileSystems.newFileSystem(uri, Map.of("secret", "s3cret"))) {
        Files.writeString(fs.getPath("/in"), "let in");
      }
    }
    try (DafsServer open = DafsServer.start(ServerOptions.of(export))) {
      URI uri = URI.create("dafs://127.0.0.1:" + open.address().getPort() + "/");
      assertEquals("AUTH_FAILED (authentication failed): 127.0.0.1:" + open.address().getPort() + " refused the session: server has no secret",
          failsToOpen(uri, Map.of("secret", "s3cret")).getMessage());
    }
  }
}
