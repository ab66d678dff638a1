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

  /** A version of a block: its number and version in front, a CRC of the rest at the end. */
  static byte[] version(int n, int v) {
    byte[] b = new byte[BLOCK];
    new Random(n * 31L + v).nextBytes(b);
    ByteBuffer bb = ByteBuffer.wrap(b);
    bb.putInt(0, n);
    bb.putInt(4, v);
    CRC32 crc = new CRC32();
    crc.update(b, 0, BLOCK - 8);
    bb.putLong(BLOCK - 8, crc.getValue());
    return b;
  }

  /**
   * Writers rewrite whole blocks under a WRITE delegation while readers check them and the cache evicts
   * all the time: a cached write racing the eviction of its block must never be lost, nor land in a
   * recycled block. At the end the server holds each block's last version.
   */
  @Test
  void cachedWritesSurviveTheStormAndReachTheServer() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    byte[] initial = new byte[BLOCK * BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
      System.arraycopy(version(i, 0), 0, initial, i * BLOCK, BLOCK);
    }
    Files.write(export.resolve("rewritten"), initial);
    byte[] other = new byte[BLOCK * BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
      System.arraycopy(blockContent(i), 0, other, i * BLOCK, BLOCK);
    }
    Files.write(export.resolve("other"), other); // readers of another file evict this one's blocks under their own locks
    int writesPerThread = Boolean.getBoolean("cachedafs.soak") ? 50_000 : 5_000;
    int[] last = new int[BLOCKS];
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withBlockSize(BLOCK).withCapacity(32 * BLOCK)
            .withSlabBytes(8 * BLOCK).withReadAhead(false).withDirtyFraction(0.25))) {
      CachedFile f = cache.open(s.root(), "rewritten", OpenMode.readWrite());
      CachedFile g = cache.open(s.root(), "other", OpenMode.read());
      assertTrue(f.isWriteBack());
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> all = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int id = t;
        all.add(pool.submit(() -> {
          Random rnd = new Random(id);
          ByteBuffer b = ByteBuffer.allocate(BLOCK);
          for (int i = 0; i < writesPerThread; i++) {
            if (id < 4) {
              int n = rnd.nextInt(BLOCKS / 4) * 4 + id; // each writer owns every fourth block
              int v = ++last[n];
              f.write((long) n * BLOCK, ByteBuffer.wrap(version(n, v)));
            } else if (id >= 6) {
              int n = rnd.nextInt(BLOCKS);
              b.clear();
              fill(g, (long) n * BLOCK, b);
              check(b.array(), n);
            } else {
              int n = rnd.nextInt(BLOCKS);
              b.clear();
              fill(f, (long) n * BLOCK, b);
              ByteBuffer bb = ByteBuffer.wrap(b.array());
              CRC32 crc = new CRC32();
              crc.update(b.array(), 0, BLOCK - 8);
              if (bb.getInt(0) != n || bb.getLong(BLOCK - 8) != crc.getValue()) {
                throw new AssertionError("block " + n + " read as block " + bb.getInt(0) + " version " + bb.getInt(4));
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> fu : all) {
        fu.get();
      }
      pool.shutdown();
      f.sync();
      CacheStats st = cache.stats();
      System.out.println("write storm: " + st);
      assertTrue(st.evictions() > 100, "evictions all along: " + st);
      assertEquals(0, st.lostBytes());
      f.close();
      g.close();
    }
    byte[] disk = Files.readAllBytes(export.resolve("rewritten"));
    for (int n = 0; n < BLOCKS; n++) {
      byte[] want = version(n, last[n]);
      byte[] got = java.util.Arrays.copyOfRange(disk, n * BLOCK, (n + 1) * BLOCK);
      if (!java.util.Arrays.equals(want, got)) {
        throw new AssertionError("block " + n + " on disk is not its last version " + last[n] + " (it holds block "
            + ByteBuffer.wrap(got).getInt(0) + " version " + ByteBuffer.wrap(got).getInt(4) + ")");
      }
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
