package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server as a separate JVM, started through its CLI from the built jar. */
class ServerProcessIT {
  @TempDir Path tmp;

  static Path jar() {
    Path jar = Path.of(System.getProperty("dafs.server.jar", "target/dafs-server.jar"));
    assertTrue(Files.isRegularFile(jar), "the server jar is built before integration tests: " + jar);
    return jar;
  }

  static ProcessBuilder server(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar().toString()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd);
  }

  /** Reads stdout lines until one starts with {@code prefix}; returns every line read. */
  static List<String> readUntil(BufferedReader out, String prefix) throws IOException {
    List<String> lines = new ArrayList<>();
    String line;
    while ((line = out.readLine()) != null) {
      lines.add(line);
      if (line.startsWith(prefix)) {
        return lines;
      }
    }
    throw new AssertionError("the server exited before printing '" + prefix + "': " + lines);
  }

  @Test
  void servesThroughItsCliAndStopsCleanlyOnSigterm() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    Path secretFile = tmp.resolve("secret");
    Files.writeString(secretFile, "s3cret-for-the-process-test\n");
    Process p = server("--export", export.toString(), "--listen", "tcp://127.0.0.1:0", "--secret-file", secretFile.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      List<String> lines = readUntil(out, "listening on ");
      String listening = lines.get(lines.size() - 1);
      assertTrue(listening.matches("listening on dafs://127\\.0\\.0\\.1:[1-9][0-9]*"), listening);
      URI uri = URI.create(listening.substring("listening on ".length()));

      byte[] secret = "s3cret-for-the-process-test".getBytes(StandardCharsets.UTF_8);
      DafsException refused = assertThrows(DafsException.class, () -> DafsClient.connect(uri, ClientOptions.defaults()));
      assertEquals(Status.AUTH_FAILED, refused.status());
      try (DafsSession s = DafsClient.connect(uri, ClientOptions.defaults().withSecret(secret))) {
        s.mkdir(s.root(), "dir", 0755);
        OpenFile o = s.open(s.lookup(s.root(), "dir").handle(), "file", OpenMode.readWrite().create(0644));
        s.write(o, 0, ByteBuffer.wrap("from another process".getBytes(StandardCharsets.UTF_8)));
        s.fsync(o.handle(), false);
        s.close(o);
      }
      assertEquals("from another process", Files.readString(export.resolve("dir/file")));

      p.toHandle().destroy(); // SIGTERM, leaving our end of its stdout open
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the server exits after SIGTERM");
      assertEquals(0, p.exitValue(), "a clean exit");
      assertNotNull(readUntil(out, "stopping"));
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void withoutASecretItSaysItServesLoopbackOnly() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    Process p = server("--export", export.toString(), "--listen", "tcp://127.0.0.1:0").redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      List<String> lines = readUntil(out, "listening on ");
      assertTrue(lines.contains("no secret file given: serving loopback clients only"), lines.toString());
      URI uri = URI.create(lines.get(lines.size() - 1).substring("listening on ".length()));
      try (DafsSession s = DafsClient.connect(uri, ClientOptions.defaults())) {
        s.create(s.root(), "loopback-ok", 0644, true);
      }
      p.destroy();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue());
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void badArgumentsGetAClearErrorAndAUsageExitCode() throws Exception {
    Process missing = server("--listen", "tcp://127.0.0.1:0").redirectErrorStream(true).start();
    String text = new String(missing.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(missing.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, missing.exitValue(), text);
    assertTrue(text.contains("--export"), text);

    Process notADir = server("--export", tmp.resolve("does-not-exist").toString()).redirectErrorStream(true).start();
    text = new String(notADir.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(notADir.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, notADir.exitValue(), text);
    assertTrue(text.contains("is not a directory"), text);
  }
}
