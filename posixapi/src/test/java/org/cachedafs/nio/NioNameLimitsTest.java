package org.cachedafs.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, defect 2 through java.nio: a name or path the server would refuse fails with the reason the
 * JDK gives for a local one, and the file system goes on working afterwards (it once failed every
 * later call with SEQ_MISORDERED).
 */
class NioNameLimitsTest {
  @TempDir Path tmp;
  DafsServer server;
  FileSystem fs;

  @BeforeEach
  void start() throws IOException {
    server = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("export"))));
    fs = FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + server.address().getPort() + "/"), Map.of("cache.size", "8m"));
  }

  @AfterEach
  void stop() throws IOException {
    fs.close();
    server.close();
  }

  @Test
  void tooLongPathsAndNamesFailAsLocallyAndTheFileSystemKeepsWorking() throws IOException {
    Path f = fs.getPath("/f");
    Files.writeString(f, "hello");
    Path longPath = fs.getPath("/" + "d/".repeat(2_500));
    Path longName = fs.getPath("/" + "n".repeat(5_000));
    assertFalse(Files.exists(longPath));
    assertFalse(Files.exists(longName));
    FileSystemException e = assertThrows(FileSystemException.class, () -> Files.readAttributes(longPath, BasicFileAttributes.class));
    assertTrue(e.getReason().startsWith("File name too long"), e.getReason());
    e = assertThrows(FileSystemException.class, () -> Files.writeString(fs.getPath("/" + "n".repeat(256)), "x"));
    assertTrue(e.getReason().startsWith("File name too long"), e.getReason());
    e = assertThrows(FileSystemException.class, () -> Files.createDirectory(fs.getPath("/" + "n".repeat(256))));
    assertTrue(e.getReason().startsWith("File name too long"), e.getReason());
    e = assertThrows(FileSystemException.class, () -> Files.move(f, fs.getPath("/" + "n".repeat(256))));
    assertTrue(e.getReason().startsWith("File name too long"), e.getReason());
    // A NUL cannot even make a path, as with the JDK's own paths.
    assertThrows(InvalidPathException.class, () -> fs.getPath("/a\0b"));

    // Many times the session's credits, so that every slot carries requests after the refusals.
    for (int i = 0; i < 300; i++) {
      assertTrue(Files.exists(f));
      assertEquals("hello", Files.readString(f));
    }
    Files.createDirectory(fs.getPath("/dir"));
    Files.move(f, fs.getPath("/dir/g"));
    assertEquals("hello", Files.readString(fs.getPath("/dir/g")));
  }
}
