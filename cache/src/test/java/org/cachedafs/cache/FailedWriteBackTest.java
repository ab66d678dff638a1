package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.Status;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.Tmpfs;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write-back that fails stays failed: once the application has been told (fsync, close), the bytes
 * are neither read back from the cache nor written later, and each open that existed when it failed
 * is told once. The failures are real: the export is a 512 KiB tmpfs, and 2 MiB are written to it
 * (write-backs run concurrently, in transfers of up to 1 MiB: none of them fits whole, so however
 * they are ordered the file ends up shorter than what was written).
 */
class FailedWriteBackTest {
  private static final int WRITTEN = 2 << 20;

  @TempDir Path tmp;
  private Tmpfs fs;
  private DafsServer server;
  private DafsSession session;
  private CacheManager cache;

  private void start(ServerOptions options) throws IOException {
    server = DafsServer.start(options);
    session = DafsClient.connect(server.uri(), ClientOptions.defaults());
    // Room for every dirty block, and no background write-back: the test says when bytes go out.
    cache = CacheManager.create(session, CacheConfig.defaults().withBlockSize(64 * 1024).withCapacity(8 << 20).withSlabBytes(8 << 20)
        .withDirtyFraction(0.5).withFlushInterval(Duration.ofHours(1)));
  }

  private Path fullDisk() throws Exception {
    Path export = tmp.resolve("export");
    fs = Tmpfs.mount(export, "512k");
    start(ServerOptions.of(export));
    return export;
  }

  @AfterEach
  void stop() throws Exception {
    if (cache != null) {
      cache.close();
    }
    if (session != null) {
      session.close();
    }
    if (server != null) {
      server.close();
    }
    if (fs != null) {
      fs.close();
    }
  }

  private static ByteBuffer pattern(int bytes) {
    byte[] b = new byte[bytes];
    Arrays.fill(b, (byte) 0x5a);
    return ByteBuffer.wrap(b);
  }

  /** Reads up to end of file (read() may stop short at a block boundary, so until it says -1). */
  private static byte[] readAll(CachedFile f) throws IOException {
    ByteBuffer dst = ByteBuffer.allocate(WRITTEN + 1);
    while (dst.hasRemaining() && f.read(dst.position(), dst) >= 0) {
      // on to the end
    }
    return Arrays.copyOf(dst.array(), dst.position());
  }

  @Test
  void bytesWhoseWriteBackFailedAreNeitherReadBackNorWrittenLater() throws Exception {
    Path export = fullDisk();
    CachedFile a = cache.open(session.root(), "f", OpenMode.readWrite().create(0644));
    assertTrue(a.isWriteBack(), "the test needs the bytes kept in the cache");
    assertEquals(WRITTEN, a.write(0, pattern(WRITTEN)));
    DafsException e = assertThrows(DafsException.class, a::close);
    assertEquals(Status.NOSPC, e.status(), e.getMessage());
    byte[] onDisk = Files.readAllBytes(export.resolve("f"));
    assertTrue(onDisk.length < WRITTEN, "the disk was full");

    CachedFile b = cache.open(session.root(), "f", OpenMode.readWrite());
    assertArrayEquals(onDisk, readAll(b), "reads see the server's bytes, not those that failed");
    assertEquals(onDisk.length, b.size(), "the size is the server's");

    fs.remount("size=16m"); // room now: anything still held back would land
    b.sync();
    b.close();
    cache.close();
    cache = null;
    assertArrayEquals(onDisk, Files.readAllBytes(export.resolve("f")), "the failed bytes were never written");
  }

  @Test
  void eachOpenThatExistedIsToldOnceAtSyncOrClose() throws Exception {
    fullDisk();
    CachedFile writer = cache.open(session.root(), "f", OpenMode.readWrite().create(0644));
    CachedFile other = cache.open(session.root(), "f", OpenMode.readWrite());
    CachedFile reader = cache.open(session.root(), "f", OpenMode.read());
    writer.write(0, pattern(WRITTEN));

    DafsException first = assertThrows(DafsException.class, other::sync); // its sync's write-back fails
    assertEquals(Status.NOSPC, first.status(), first.getMessage());
    assertDoesNotThrow(() -> other.sync(), "told once");

    CachedFile later = cache.open(session.root(), "f", OpenMode.readWrite());
    assertDoesNotThrow(() -> later.sync(), "opened after the failure: nothing to tell");

    DafsException atSync = assertThrows(DafsException.class, reader::sync);
    assertEquals(Status.NOSPC, atSync.status(), atSync.getMessage());
    assertDoesNotThrow(() -> reader.sync());
    assertDoesNotThrow(reader::close);

    DafsException atClose = assertThrows(DafsException.class, writer::close);
    assertEquals(Status.NOSPC, atClose.status(), atClose.getMessage());
    assertDoesNotThrow(other::close);
    assertDoesNotThrow(later::close);
    assertTrue(cache.stats().lostBytes() > 0, "the dropped bytes are counted");
  }

  @Test
  void aWritePastTheServersLargestFileIsRefusedAtWriteNotAtClose() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    start(ServerOptions.of(export).withMaxFileSize(100_000));
    CachedFile f = cache.open(session.root(), "f", OpenMode.readWrite().create(0644));
    assertTrue(f.isWriteBack());
    assertEquals(100_000, f.write(0, pattern(200_000)), "written up to the limit, as write(2) at RLIMIT_FSIZE");
    DafsException past = assertThrows(DafsException.class, () -> f.write(100_000, pattern(1)));
    assertEquals(Status.FBIG, past.status(), past.getMessage());
    DafsException grow = assertThrows(DafsException.class, () -> f.truncate(100_001));
    assertEquals(Status.FBIG, grow.status(), grow.getMessage());
    assertEquals(0, f.write(100_000, ByteBuffer.allocate(0)), "nothing to write is not an error");
    assertDoesNotThrow(f::close, "no bytes were lost");
    assertEquals(100_000, Files.size(export.resolve("f")));
    assertEquals(0, cache.stats().lostBytes());
  }
}
