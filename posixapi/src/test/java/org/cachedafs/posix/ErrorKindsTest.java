package org.cachedafs.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import jnr.constants.platform.Errno;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.protocol.Status;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.Tmpfs;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file system's errors end to end, made for real on the server: its status, the facade's errno
 * (ENOSPC 28, EFBIG 27, EROFS 30, EDQUOT 122 on Linux) and the NIO exception's reason, which names it.
 */
class ErrorKindsTest {
  @TempDir Path tmp;
  private Tmpfs tmpfs;
  private DafsServer server;
  private DafsSession session;
  private CacheManager cache;
  private DafsPosix posix;
  private String mount;
  private FileSystem nio;

  private Path start(boolean smallDisk, long maxFileSize) throws Exception {
    Path export = tmp.resolve("export");
    if (smallDisk) {
      tmpfs = Tmpfs.mount(export, "1m");
    } else {
      Files.createDirectories(export);
    }
    server = DafsServer.start(ServerOptions.of(export).withMaxFileSize(maxFileSize));
    session = DafsClient.connect(server.uri(), ClientOptions.defaults());
    cache = CacheManager.create(session, CacheConfig.defaults().withCapacity(16 << 20).withSlabBytes(8 << 20));
    posix = new DafsPosix();
    mount = "/dafs-errors-" + System.nanoTime();
    posix.mount(mount, cache);
    nio = FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + server.address().getPort() + "/"), Map.of("cache.size", "16m", "block.size", "64k"));
    return export;
  }

  @AfterEach
  void stop() throws Exception {
    if (nio != null) {
      nio.close();
    }
    if (posix != null) {
      posix.close();
    }
    if (cache != null) {
      cache.close();
    }
    if (session != null) {
      session.close();
    }
    if (server != null) {
      server.close();
    }
    if (tmpfs != null) {
      tmpfs.close();
    }
  }

  private static void assertReason(String expected, FileSystemException e) {
    assertTrue(e.getReason() != null && e.getReason().startsWith(expected), "reason: " + e.getReason());
  }

  @Test
  void aFullDiskIsEnospcAndNoSpaceLeftOnDevice() throws Exception {
    start(true, Long.MAX_VALUE);
    int fd = posix.open(mount + "/f", DafsPosix.O_CREAT | DafsPosix.O_WRONLY, 0644);
    assertTrue(fd >= 0, "open: " + posix.errno());
    byte[] chunk = new byte[64 * 1024];
    for (int i = 0; i < 32; i++) {
      assertEquals(chunk.length, posix.write(fd, chunk, 0, chunk.length), "cached: " + posix.errno());
    }
    assertEquals(-1, posix.fsync(fd));
    assertEquals(Errno.ENOSPC.intValue(), posix.errno());
    assertEquals(28, posix.errno());
    assertEquals(0, posix.close(fd), "reported once, at the fsync");

    Path g = nio.getPath("/g");
    FileSystemException e = assertThrows(FileSystemException.class, () -> Files.write(g, new byte[2 << 20]));
    assertReason("No space left on device (NOSPC)", e);
    assertEquals("/g", e.getFile());
  }

  @Test
  void aWritePastTheLargestFileIsEfbigAtWrite() throws Exception {
    Path export = start(false, 100_000);
    int fd = posix.open(mount + "/f", DafsPosix.O_CREAT | DafsPosix.O_RDWR, 0644);
    byte[] buf = new byte[100];
    assertEquals(10, posix.pwrite(fd, buf, 0, 100, 99_990), "a short count up to the limit: " + posix.errno());
    assertEquals(-1, posix.pwrite(fd, buf, 0, 100, 100_000));
    assertEquals(Errno.EFBIG.intValue(), posix.errno());
    assertEquals(27, posix.errno());
    assertEquals(-1, posix.ftruncate(fd, 100_001));
    assertEquals(Errno.EFBIG.intValue(), posix.errno());
    assertEquals(0, posix.close(fd), "nothing failed later");
    assertEquals(100_000, Files.size(export.resolve("f")));

    try (DafsRandomAccessFile raf = new DafsRandomAccessFile(posix, mount + "/r", "rw")) {
      PosixException e = assertThrows(PosixException.class, () -> raf.write(new byte[200_000]), "all of it, or an error");
      assertEquals(Errno.EFBIG.intValue(), e.errno());
    }
    assertEquals(100_000, Files.size(export.resolve("r")));

    try (FileChannel ch = FileChannel.open(nio.getPath("/g"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      assertEquals(10, ch.write(ByteBuffer.allocate(100), 99_990));
      FileSystemException e = assertThrows(FileSystemException.class, () -> ch.write(ByteBuffer.allocate(1), 100_000));
      assertReason("File too large (FBIG)", e);
    }
    FileSystemException stream = assertThrows(FileSystemException.class, () -> Files.write(nio.getPath("/h"), new byte[200_000]));
    assertReason("File too large (FBIG)", stream);
    assertEquals(100_000, Files.size(export.resolve("h")), "the stream wrote up to the limit, then failed");
  }

  @Test
  void aReadOnlyFileSystemIsErofs() throws Exception {
    start(true, Long.MAX_VALUE);
    tmpfs.remount("ro");
    assertEquals(-1, posix.open(mount + "/f", DafsPosix.O_CREAT | DafsPosix.O_WRONLY, 0644));
    assertEquals(Errno.EROFS.intValue(), posix.errno());
    assertEquals(30, posix.errno());
    FileSystemException e = assertThrows(FileSystemException.class, () -> Files.createFile(nio.getPath("/g")));
    assertReason("Read-only file system (ROFS)", e);
    tmpfs.remount("rw");
  }

  /** EDQUOT needs quotas on the server's file system to happen for real; its mapping is checked here. */
  @Test
  void everyFileSystemStatusHasItsErrno() throws IOException {
    assertEquals(Errno.EDQUOT.intValue(), Errnos.of(Status.DQUOT));
    assertEquals(122, Errnos.of(Status.DQUOT));
    assertEquals(Errno.EMLINK.intValue(), Errnos.of(Status.MLINK));
    assertEquals(Errno.EROFS.intValue(), Errnos.of(Status.ROFS));
    assertEquals(Errno.ENOSPC.intValue(), Errnos.of(Status.NOSPC));
    assertEquals(Errno.EFBIG.intValue(), Errnos.of(Status.FBIG));
  }
}
