package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eight readers against a cache a sixteenth the size of their working set, so blocks are evicted and
 * recycled under them all the time. Every block of the file carries its own number and a CRC of its
 * content: a torn read or a read of a recycled block would fail the check.
 */
class EvictionStormTest {
  static final int BLOCK = 4096;
  static final int BLOCKS = 256;

  @TempDir Path tmp;

  static byte[] blockContent(int n) {
    byte[] b = new byte[BLOCK];
    new Random(n * 7919L).nextBytes(b);
    ByteBuffer bb = ByteBuffer.wrap(b);
    bb.putInt(0, n);
    CRC32 crc = new CRC32();
    crc.update(b, 0, BLOCK - 8);
    bb.putLong(BLOCK - 8, crc.getValue());
    return b;
  }

  static void check(byte[] b, int expectedBlock) {
    ByteBuffer bb = ByteBuffer.wrap(b);
    CRC32 crc = new CRC32();
    crc.update(b, 0, BLOCK - 8);
    if (bb.getInt(0) != expectedBlock || bb.getLong(BLOCK - 8) != crc.getValue()) {
      throw new AssertionError("block " + expectedBlock + " read as block " + bb.getInt(0) + (bb.getLong(BLOCK - 8) != crc.getValue() ? ", torn" : ""));
    }
  }

  @Test
  void eightReadersNeverSeeATornOrRecycledBlock() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    byte[] whole = new byte[BLOCK * BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
      System.arraycopy(blockContent(i), 0, whole, i * BLOCK, BLOCK);
    }
    Files.write(export.resolve("storm"), whole);
    int readsPerThread = Boolean.getBoolean("cachedafs.soak") ? 200_000 : 20_000;
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withBlockSize(BLOCK).withCapacity(16 * BLOCK)
            .withSlabBytes(8 * BLOCK).withReadAhead(false))) {
      CachedFile shared = cache.open(s.root(), "storm", OpenMode.read());
      assertTrue(shared.isCached(), "reads are cached under a READ delegation");
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> readers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int seed = t;
        readers.add(pool.submit(() -> {
          Random rnd = new Random(seed);
          CachedFile own = seed % 2 == 0 ? shared : cache.open(s.root(), "storm", OpenMode.read());
          ByteBuffer one = ByteBuffer.allocate(BLOCK);
          ByteBuffer two = ByteBuffer.allocate(2 * BLOCK);
          for (int i = 0; i < readsPerThread; i++) {
            int n = rnd.nextInt(BLOCKS - 1);
            if (rnd.nextBoolean()) {
              one.clear();
              fill(own, (long) n * BLOCK, one);
              check(one.array(), n);
            } else {
              // Unaligned, across two blocks: compare with the file's bytes.
              int off = rnd.nextInt(BLOCK);
              two.clear().limit(BLOCK + 17);
              fill(own, (long) n * BLOCK + off, two);
              for (int k = 0; k < BLOCK + 17; k++) {
                long at = (long) n * BLOCK + off + k;
                if (at < whole.length && two.get(k) != whole[(int) at]) {
                  throw new AssertionError("byte " + at + " differs");
                }
              }
            }
          }
          if (own != shared) {
            own.close();
          }
          return null;
        }));
      }
      for (Future<?> f : readers) {
        f.get();
      }
      pool.shutdown();
      CacheStats st = cache.stats();
      System.out.println("eviction storm: " + st);
      assertTrue(st.evictions() > 1000, "blocks were evicted all along: " + st.evictions());
      assertTrue(st.hits() > 0 && st.misses() > 0);
      assertTrue(st.usedBlocks() <= st.blocks(), "never more than the slabs hold");
      assertEquals(2, st.slabs());
      shared.close();
    }
  }

  private static void fill(CachedFile f, long pos, ByteBuffer dst) throws java.io.IOException {
    while (dst.hasRemaining()) {
      int n = f.read(pos, dst);
      if (n < 0) {
        return;
      }
      pos += n;
    }
  }
}
