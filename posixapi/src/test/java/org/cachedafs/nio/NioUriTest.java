package org.cachedafs.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: dafs URIs as a new user writes them. A server without a port is on 5450; localhost and
 * 127.0.0.1 are one server, so one file system; a file system's URI has no path; and Path.of(URI) and
 * getFileSystem find an open file system but never open one.
 */
class NioUriTest {
  @TempDir Path tmp;
  @RegisterExtension final ServedExport served = new ServedExport();
  DafsServer server;
  int port;

  @BeforeEach
  void start() {
    server = served.server();
    port = served.port();
  }

  @Test
  void aServerWithoutAPortIsOnTheDefaultPort() throws IOException {
    assertEquals(new DafsUri("example.org", 5450, "/dir"), DafsUri.parse(URI.create("dafs://example.org/dir")));
    DafsServer onDefault;
    try {
      onDefault = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("default"))).withListen(new InetSocketAddress("127.0.0.1", 5450)));
    } catch (IOException e) {
      Assumptions.abort("port 5450 is in use on this machine: " + e);
      return;
    }
    try (onDefault; FileSystem fs = FileSystems.newFileSystem(URI.create("dafs://127.0.0.1/"), Map.of())) {
      Files.writeString(fs.getPath("/f"), "on 5450");
      assertEquals("on 5450", Files.readString(tmp.resolve("default/f")));
      assertEquals(URI.create("dafs://127.0.0.1:5450/f"), fs.getPath("/f").toUri());
      assertSame(fs, Path.of(URI.create("dafs://localhost:5450/f")).getFileSystem());
    }
  }

  @Test
  void localhostAnd127001AreOneFileSystem() throws IOException {
    try (FileSystem fs = FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + port + "/"), Map.of())) {
      FileSystemAlreadyExistsException twice = assertThrows(FileSystemAlreadyExistsException.class,
          () -> FileSystems.newFileSystem(URI.create("dafs://localhost:" + port + "/"), Map.of()));
      assertEquals("dafs://localhost:" + port + " is open already, as dafs://127.0.0.1:" + port, twice.getMessage());
      twice = assertThrows(FileSystemAlreadyExistsException.class,
          () -> FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + port), Map.of()));
      assertEquals("dafs://127.0.0.1:" + port + " is open already", twice.getMessage());
      assertSame(fs, FileSystems.getFileSystem(URI.create("dafs://localhost:" + port + "/")));
      Path p = Path.of(URI.create("dafs://localhost:" + port + "/a/b"));
      assertSame(fs, p.getFileSystem());
      assertEquals("/a/b", p.toString());
      assertEquals(1, server.stats().sessions());
    }
  }

  @Test
  void aFileSystemUriWithAPathIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + port + "/dir"), Map.of()));
    assertEquals("a dafs file system is a whole server, dafs://HOST[:PORT]/, so its URI has no path: got dafs://127.0.0.1:" + port
        + "/dir (open dafs://127.0.0.1:" + port + "/, then getPath(\"/dir\") on it)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FileSystems.getFileSystem(URI.create("dafs://127.0.0.1:" + port + "/dir")));
    assertEquals("a dafs file system is a whole server, dafs://HOST[:PORT]/, so its URI has no path: got dafs://127.0.0.1:" + port
        + "/dir (open dafs://127.0.0.1:" + port + "/, then getPath(\"/dir\") on it)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + port + "/?x=1"), Map.of()));
    assertEquals("a dafs URI has no user, query or fragment: dafs://127.0.0.1:" + port + "/?x=1", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FileSystems.newFileSystem(URI.create("dafs:127.0.0.1"), Map.of()));
    assertEquals("expected dafs://HOST[:PORT]/PATH, got dafs:127.0.0.1", e.getMessage());
    assertEquals(0, server.stats().connections(), "nothing connected");
  }

  @Test
  void pathOfAndGetFileSystemFindAnOpenFileSystemAndNeverOpenOne() throws IOException {
    URI file = URI.create("dafs://127.0.0.1:" + port + "/dir/file");
    String notOpen = "no dafs file system is open for 127.0.0.1:" + port + "; FileSystems.newFileSystem(URI.create(\"dafs://127.0.0.1:"
        + port + "/\"), env) opens one";
    assertEquals(notOpen, assertThrows(FileSystemNotFoundException.class, () -> Path.of(file)).getMessage());
    assertEquals(notOpen, assertThrows(FileSystemNotFoundException.class,
        () -> FileSystems.getFileSystem(URI.create("dafs://127.0.0.1:" + port + "/"))).getMessage());
    assertEquals("no dafs file system is open for nosuch.invalid:5450 (unknown host)",
        assertThrows(FileSystemNotFoundException.class, () -> Path.of(URI.create("dafs://nosuch.invalid/x"))).getMessage());
    assertEquals(0, server.stats().connections(), "looking a file system up never connects");

    try (FileSystem fs = FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + port + "/"), Map.of())) {
      assertSame(fs, Path.of(file).getFileSystem());
      assertEquals("/dir/file", Path.of(file).toString());
      assertSame(fs, FileSystems.getFileSystem(URI.create("dafs://127.0.0.1:" + port)));
    }
    assertEquals(notOpen, assertThrows(FileSystemNotFoundException.class, () -> Path.of(file)).getMessage(), "closed, so gone");
  }
}
