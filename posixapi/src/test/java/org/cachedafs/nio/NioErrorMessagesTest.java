package org.cachedafs.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.FileHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: a failure names its path once, as the JDK's own provider does, and the server never tells a
 * client its own paths (once, "/nope: NOENT (no such file or directory): /tmp/junit.../export/nope").
 * Each failure is made on a local directory too, and must read the same there, the root aside.
 */
class NioErrorMessagesTest {
  @TempDir Path local;
  @RegisterExtension final ServedExport served = new ServedExport();
  FileSystem fs;

  @BeforeEach
  void openFileSystem() throws IOException {
    fs = FileSystems.newFileSystem(served.uri(), Map.of("cache.size", "8m"));
    for (Path root : new Path[] {fs.getPath("/"), local}) {
      Files.createDirectories(root.resolve("d/sub"));
      Files.writeString(root.resolve("d/f"), "x");
    }
  }

  @AfterEach
  void closeFileSystem() throws IOException {
    fs.close();
  }

  private interface Call {
    void on(Path root) throws IOException;
  }

  /** {@code call} fails on the server as on the local directory: the same kind of exception, and {@code message}. */
  private void failsAsLocally(Class<? extends FileSystemException> kind, String message, Call call) {
    FileSystemException remote = assertThrows(kind, () -> call.on(fs.getPath("/")));
    assertEquals(message, remote.getMessage());
    FileSystemException mine = assertThrows(FileSystemException.class, () -> call.on(local));
    assertInstanceOf(kind, mine);
    assertEquals(message, mine.getMessage().replace(local.toString(), ""));
  }

  @Test
  void aFailureNamesItsPathOnceAsTheJdkDoes() {
    failsAsLocally(NoSuchFileException.class, "/nope", root -> Files.readString(root.resolve("nope")));
    failsAsLocally(NoSuchFileException.class, "/nope/x", root -> Files.readString(root.resolve("nope/x")));
    failsAsLocally(NoSuchFileException.class, "/nope/x", root -> Files.createDirectory(root.resolve("nope/x")));
    failsAsLocally(NoSuchFileException.class, "/nope", root -> Files.delete(root.resolve("nope")));
    failsAsLocally(NoSuchFileException.class, "/nope/x", root -> Files.delete(root.resolve("nope/x")));
    failsAsLocally(FileAlreadyExistsException.class, "/d", root -> Files.createDirectory(root.resolve("d")));
    failsAsLocally(FileAlreadyExistsException.class, "/d/f", root -> Files.newOutputStream(root.resolve("d/f"), StandardOpenOption.CREATE_NEW).close());
    failsAsLocally(DirectoryNotEmptyException.class, "/d", root -> Files.delete(root.resolve("d")));
    failsAsLocally(NoSuchFileException.class, "/nope", root -> Files.move(root.resolve("nope"), root.resolve("d/g")));
    failsAsLocally(NoSuchFileException.class, "/d/f -> /nodir/g", root -> Files.move(root.resolve("d/f"), root.resolve("nodir/g")));
    failsAsLocally(NotDirectoryException.class, "/d/f", root -> Files.list(root.resolve("d/f")).close());
  }

  @Test
  void theServerNeverTellsAClientItsPaths() throws IOException {
    try (DafsSession s = DafsClient.connect(served.server().uri(), ClientOptions.defaults())) {
      FileHandle root = s.root();
      assertEquals("NOENT (no such file or directory)", assertThrows(DafsException.class, () -> s.lookup(root, "nope")).getMessage());
      assertEquals("NOENT (no such file or directory)", assertThrows(DafsException.class, () -> s.lookup(root, "nope/x")).getMessage());
      assertEquals("NOENT (no such file or directory)", assertThrows(DafsException.class, () -> s.remove(root, "nope")).getMessage());
      assertEquals("EXIST (file exists)", assertThrows(DafsException.class, () -> s.mkdir(root, "d", 0755)).getMessage());
      assertEquals("EXIST (file exists)",
          assertThrows(DafsException.class, () -> s.open(s.lookup(root, "d").handle(), "f", OpenMode.write().create(0644).exclusive())).getMessage());
      assertEquals("NOENT (no such file or directory)",
          assertThrows(DafsException.class, () -> s.open(root, "nope", OpenMode.read())).getMessage());
      assertEquals("NOTDIR (not a directory)",
          assertThrows(DafsException.class, () -> s.rmdir(s.lookup(root, "d").handle(), "f")).getMessage());
    }
  }
}
