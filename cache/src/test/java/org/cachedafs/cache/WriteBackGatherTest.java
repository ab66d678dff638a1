package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
 * Write-back gathers runs of adjacent dirty blocks into one transfer, and writes exactly the dirty
 * bytes: partial blocks keep the file's other bytes, gaps stay as they were, a run that starts or
 * ends inside a block starts or ends there.
 */
class WriteBackGatherTest {
  private static final int BLOCK = 64 << 10;

  @TempDir Path tmp;

  @Test
  void adjacentDirtyBlocksGoBackTogetherAndOnlyTheirDirtyBytes() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    int initial = 32 * BLOCK;
    byte[] expected = new byte[initial + 3000]; // the last write goes 3000 bytes past the end
    new Random(1).nextBytes(expected);
    Files.write(export.resolve("f"), Arrays.copyOf(expected, initial));
    Random r = new Random(2);
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withBlockSize(BLOCK).withCapacity(16 << 20)
            .withSlabBytes(4 << 20).withFlushInterval(java.time.Duration.ofHours(1)))) {
      CachedFile f = cache.open(s.root(), "f", OpenMode.readWrite());
      assertTrue(f.isWriteBack(), "the only client gets a write delegation");
      long before = cache.stats().writeBacks();
      write(f, expected, 0, 20 * BLOCK, r); // blocks 0-19: more than one bounce buffer's worth
      write(f, expected, 22L * BLOCK + 100, 4900, r); // inside block 22 only; 20 and 21 untouched
      write(f, expected, 23L * BLOCK + 777, BLOCK, r); // the end of 23 and the start of 24
      write(f, expected, 27L * BLOCK, BLOCK - 1, r); // all of 27 but its last byte: 28 is not joined
      write(f, expected, 28L * BLOCK, 10, r);
      write(f, expected, 31L * BLOCK + BLOCK - 5, 5 + 3000, r); // past the end of the file
      assertEquals(initial, Files.size(export.resolve("f")), "nothing written back yet: the blocks are dirty in the cache");
      f.sync();
      long transfers = cache.stats().writeBacks() - before;
      byte[] onDisk = Files.readAllBytes(export.resolve("f"));
      assertEquals(expected.length, onDisk.length, "the write past the end extended the file");
      assertArrayEquals(expected, onDisk, "exactly the dirty bytes went back");
      // 0-15 and 16-19 (a bounce buffer holds 16 blocks), 22, 23-24, 27, 28, 31-32: 7 transfers for 27 blocks.
      assertEquals(7, transfers, "adjacent dirty blocks gathered");
      f.close();
    }
  }

  private static void write(CachedFile f, byte[] expected, long at, int len, Random r) throws Exception {
    byte[] data = new byte[len];
    r.nextBytes(data);
    assertEquals(len, f.write(at, ByteBuffer.wrap(data)));
    System.arraycopy(data, 0, expected, (int) at, len);
  }
}
