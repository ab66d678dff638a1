package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers under a WRITE delegation never wait on write-back below the low watermark, and not between
 * the watermarks either until the throttle point; past the low watermark write-back starts by itself.
 * Checked by the cache's counters after every write, never by time.
 */
class WriteThrottleTest {
  private static final int BLOCK = 64 << 10;
  private static final int BLOCKS = 256;
  private static final int IO = 4 << 10;

  @TempDir Path tmp;

  private static CacheConfig config() {
    // The periodic flush is kept out of the way: whatever is written back before sync, the watermarks started.
    return CacheConfig.defaults().withBlockSize(BLOCK).withCapacity((long) BLOCKS * BLOCK).withSlabBytes(4 << 20)
        .withFlushInterval(Duration.ofHours(1));
  }

  /** Writers waited (a throttle pause or a write-back of their own) this many times so far. */
  private static long waits(CacheStats s) {
    return s.writerThrottles() + s.writerStalls();
  }

  @Test
  void randomWritesThatFitTheCacheNeverWaitAndWriteBackStartsPastTheLowWatermark() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    int fileBlocks = BLOCKS / 2; // as the benchmark's: half the cache, so half of it may end up dirty
    byte[] expected = new byte[fileBlocks * BLOCK];
    new Random(1).nextBytes(expected);
    Files.write(export.resolve("f"), expected);
    CacheConfig config = config();
    int low = (int) (BLOCKS * Math.min(config.dirtyBackgroundFraction(), config.dirtyFraction()));
    assertTrue(fileBlocks > low, "the file has more blocks than the low watermark");
    Random r = new Random(2);
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, config)) {
      CachedFile f = cache.open(s.root(), "f", OpenMode.readWrite());
      assertTrue(f.isWriteBack(), "the only client gets a write delegation");
      int maxDirty = 0;
      boolean passedLow = false;
      for (int i = 0; i < 20_000; i++) {
        CacheStats before = cache.stats();
        int at = r.nextInt(expected.length / IO) * IO;
        byte[] data = new byte[IO];
        r.nextBytes(data);
        assertEquals(IO, f.write(at, ByteBuffer.wrap(data)));
        System.arraycopy(data, 0, expected, at, IO);
        CacheStats after = cache.stats();
        // One aligned 4 KiB write dirties at most one block more.
        if (before.dirtyBlocks() + 1 <= low) {
          assertEquals(waits(before), waits(after), "a writer waited on write-back below the low watermark, at "
              + before.dirtyBlocks() + " dirty blocks of " + low);
        }
        passedLow |= after.dirtyBlocks() > low;
        maxDirty = Math.max(maxDirty, after.dirtyBlocks());
      }
      CacheStats end = cache.stats();
      assertEquals(0, waits(end), "below the throttle point a writer never waits, even past the low watermark");
      assertTrue(passedLow, "the test took the dirty blocks past the low watermark: " + maxDirty);
      assertTrue(maxDirty <= fileBlocks, "no more dirty blocks than the file has: " + maxDirty);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (cache.stats().bytesFlushed() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertTrue(cache.stats().backgroundWriteBacks() > 0, "past the low watermark write-back started in the background");
      assertTrue(cache.stats().bytesFlushed() > 0, "and wrote bytes back before anyone synced");
      f.sync();
      assertArrayEquals(expected, Files.readAllBytes(export.resolve("f")), "every write reached the server");
      f.close();
    }
  }

  @Test
  void pastTheHardLimitWritersAreHeldBackAndNothingIsLost() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    CacheConfig config = config().withDirtyBackgroundFraction(0.1).withDirtyFraction(0.3);
    int low = (int) (BLOCKS * config.dirtyBackgroundFraction());
    int high = (int) (BLOCKS * config.dirtyFraction());
    int written = 2 * BLOCKS; // twice the cache, a whole block at a time: faster than any write-back
    byte[] expected = new byte[written * BLOCK];
    new Random(3).nextBytes(expected);
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, config)) {
      CachedFile f = cache.open(s.root(), "f", OpenMode.readWrite().create(0644));
      int maxDirty = 0;
      for (int i = 0; i < written; i++) {
        CacheStats before = cache.stats();
        assertEquals(BLOCK, f.write((long) i * BLOCK, ByteBuffer.wrap(expected, i * BLOCK, BLOCK)));
        CacheStats after = cache.stats();
        if (before.dirtyBlocks() + 1 <= low) {
          assertEquals(waits(before), waits(after), "a writer waited below the low watermark, at " + before.dirtyBlocks());
        }
        maxDirty = Math.max(maxDirty, after.dirtyBlocks());
      }
      assertTrue(maxDirty <= high + 1, "the hard limit holds: " + maxDirty + " dirty blocks, limit " + high);
      f.close();
      assertArrayEquals(expected, Files.readAllBytes(export.resolve("f")), "nothing was lost on the way");
    }
  }
}
