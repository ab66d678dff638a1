package org.cachedafs.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.Received;
import org.junit.jupiter.api.Test;

/** The listener's side of opening a connection: its socket file, and hellos that are not. */
class ShmListenerTest {
  private final ShmTransport shm = new ShmTransport();
  private final ConnectionHandler handler = new ConnectionHandler() {
    @Override
    public void onMessage(Connection c, Received r) {
      r.release();
    }

    @Override
    public void onClosed(Connection c, Throwable cause) {}
  };

  @Test
  void theListenerMakesAPrivateDirectoryAndRemovesItWithTheSocket() throws Exception {
    UnixDomainSocketAddress a = (UnixDomainSocketAddress) shm.localAddress();
    assertNotEquals(a, shm.localAddress(), "each address is fresh");
    assertFalse(Files.exists(a.getPath().getParent()), "nothing exists until a listener binds it");
    try (ShmDomain domain = (ShmDomain) shm.openDomain()) {
      Listener l = shm.listen(a, domain, handler);
      Path dir = a.getPath().getParent();
      assertEquals(Path.of(System.getProperty("java.io.tmpdir")), dir.getParent());
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)), "owner only");
      assertTrue(Files.exists(a.getPath()));
      l.close();
      assertFalse(Files.exists(a.getPath()) || Files.exists(dir), "the socket and its directory are gone");
      l.close(); // idempotent
    }
  }

  @Test
  void aSocketPathTooLongIsRefusedClearly() throws Exception {
    try (ShmDomain domain = (ShmDomain) shm.openDomain()) {
      Path longPath = Path.of(System.getProperty("java.io.tmpdir"), "x".repeat(120));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> shm.listen(UnixDomainSocketAddress.of(longPath.resolve("socket")), domain, handler));
      assertTrue(e.getMessage().contains("bytes"), e.getMessage());
      assertFalse(Files.exists(longPath), "and leaves nothing behind");
    }
  }

  @Test
  void badHellosCloseTheirSocketsBeforeAdmissionAndTheListenerServesOn() throws Exception {
    try (ShmPair pair = new ShmPair()) {
      UnixDomainSocketAddress at = (UnixDomainSocketAddress) pair.listener.localAddress();
      Set<String> memfds = Procfs.memfdDescriptors();
      SocketChannel silent = raw(at); // says nothing: closed after the hello timeout
      CompletableFuture<Integer> silentEnd = readEnd(silent);

      SocketChannel garbage = raw(at);
      byte[] junk = new byte[64];
      new Random(1).nextBytes(junk);
      garbage.write(ByteBuffer.wrap(junk));
      assertEquals(-1, readEnd(garbage).get(10, TimeUnit.SECONDS), "bytes that are not a hello close the socket");

      SocketChannel tooLong = raw(at);
      tooLong.write(ByteBuffer.allocate(16).put("DAFS-SHM".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(1 << 20).flip());
      assertEquals(-1, readEnd(tooLong).get(10, TimeUnit.SECONDS), "a hello with a credential too long closes the socket");

      SocketChannel wrongVersion = raw(at);
      wrongVersion.write(ByteBuffer.allocate(16).put("DAFS-SHM".getBytes(StandardCharsets.US_ASCII)).putInt(99).putInt(0).flip());
      assertEquals(-1, readEnd(wrongVersion).get(10, TimeUnit.SECONDS), "so does another version");

      // A hello with a descriptor attached, which no honest peer sends.
      Native nat = Native.load();
      int fd = nat.socket(true);
      try {
        assertTrue(nat.connect(fd, at.getPath()));
        int[] pairOfSockets = nat.socketpair();
        Native.Msg m = nat.new Msg(16);
        m.put(0, ByteBuffer.allocate(16).put("DAFS-SHM".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(0).array(), 0, 16);
        assertEquals(16, m.send(fd, 0, 16, pairOfSockets[0]));
        nat.closeQuietly(pairOfSockets[0]);
        nat.closeQuietly(pairOfSockets[1]);
        ControlChannel ch = new ControlChannel(nat, fd);
        assertTrue(Procfs.eventually(() -> {
          try {
            return ch.poll() == null && ch.ended();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }), "a hello carrying a descriptor closes the socket");
      } finally {
        nat.closeQuietly(fd);
      }

      assertEquals(-1, silentEnd.get(Handshake.HELLO_TIMEOUT_NANOS / 1_000_000_000L + 10, TimeUnit.SECONDS),
          "silence closes the socket after the hello timeout");
      assertEquals(0, pair.accepted.size(), "none of them opened");
      assertEquals(memfds, Procfs.memfdDescriptors(), "and no memory was made for any of them");
      try (ShmPair.Client fine = pair.connect()) {
        fine.connection.send(ByteBuffer.wrap(new byte[] {3}));
        assertEquals(3, pair.atServer.poll(10, TimeUnit.SECONDS)[0], "the listener serves a proper peer on");
      }
    }
  }

  private static SocketChannel raw(UnixDomainSocketAddress at) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(at);
    return ch;
  }

  /** Reads until the listener closes; completes with the last read's result (-1 at the end). */
  private static CompletableFuture<Integer> readEnd(SocketChannel ch) {
    return CompletableFuture.supplyAsync(() -> {
      try (ch) {
        ByteBuffer b = ByteBuffer.allocate(256);
        int n;
        do {
          b.clear();
          n = ch.read(b);
        } while (n >= 0);
        return n;
      } catch (IOException e) {
        return -1; // reset: as good as closed
      }
    });
  }
}
