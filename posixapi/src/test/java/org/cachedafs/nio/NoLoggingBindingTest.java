package org.cachedafs.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: an application without an SLF4J binding of its own used to see "SLF4J(W): No SLF4J
 * providers were found" and two more lines on its standard error as soon as it opened a dafs file
 * system. Run in a JVM of its own, without slf4j-simple on the class path, {@link LoggingChildMain}
 * must print nothing there; with it, and at debug, the same run must show the project's log lines.
 */
class NoLoggingBindingTest {
  @TempDir Path tmp;

  private record Run(int exit, String out, List<String> err) {}

  private Run run(String classPath, String server, String notDafs, String... jvmOptions) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dcachedafs.transport=" + System.getProperty("cachedafs.transport", "auto")));
    cmd.addAll(Arrays.asList(jvmOptions));
    cmd.addAll(List.of("-cp", classPath, LoggingChildMain.class.getName(), server, notDafs));
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the child finished");
    return new Run(p.exitValue(), Files.readString(out), Files.readAllLines(err));
  }

  @Test
  void withoutABindingNothingIsPrintedAndWithOneTheLogsAreThere() throws Exception {
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (DafsServer server = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("export"))));
        ServerSocket notDafs = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread answerer = new Thread(() -> {
        try {
          while (true) {
            Socket s = notDafs.accept();
            held.add(s);
            s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          }
        } catch (IOException closed) {
          // The test is over.
        }
      }, "not-dafs");
      answerer.setDaemon(true);
      answerer.start();
      String dafs = "dafs://127.0.0.1:" + server.address().getPort() + "/";
      String other = "dafs://127.0.0.1:" + notDafs.getLocalPort() + "/";

      String classPath = System.getProperty("java.class.path");
      String withoutBinding = Arrays.stream(classPath.split(File.pathSeparator))
          .filter(entry -> !Path.of(entry).getFileName().toString().startsWith("slf4j-simple"))
          .collect(Collectors.joining(File.pathSeparator));
      assertNotEquals(classPath, withoutBinding, "the test's class path has a binding to take away");

      Run quiet = run(withoutBinding, dafs, other);
      assertEquals(new Run(0, "done\n", List.of()), quiet, "no SLF4J warning, no log line, nothing at all on stderr");

      Run bound = run(classPath, dafs, other, "-Dorg.slf4j.simpleLogger.defaultLogLevel=debug");
      assertEquals(0, bound.exit(), String.join("\n", bound.err()));
      assertEquals("done\n", bound.out());
      String logged = "DEBUG org.cachedafs.transport.tcp.TcpConnection - closing connection from /127.0.0.1:" + notDafs.getLocalPort()
          + ": bad transport header";
      assertTrue(bound.err().stream().anyMatch(line -> line.endsWith(logged)), "with a binding, the project logs: " + bound.err());
      assertTrue(bound.err().stream().noneMatch(line -> line.startsWith("SLF4J")), "and SLF4J has nothing to say: " + bound.err());
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
