package org.cachedafs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.simple.RandomSource;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.cache.CacheStats;
import org.cachedafs.client.DafsSession;
import org.cachedafs.posix.DafsPosix;

/**
 * The hit path against its two baselines over the same set of 4 KiB chunks, in this run: a cached
 * {@code pread} through the POSIX facade; the kernel's page cache through {@code FileChannel.read} into
 * a direct buffer (its fastest form); and the user-space floor, a {@link ConcurrentHashMap} lookup with
 * keys boxed beforehand plus a 4 KiB copy. Each is timed over a whole loop, not per call, because a
 * clock read costs a fifth of a hit; the three alternate for several rounds and the median is kept.
 * One thread, so no wake-up of the other core is measured.
 *
 * @param setBytes the size of the set
 * @param kernelNs nanoseconds per kernel read
 * @param cachedNs nanoseconds per cached facade read
 * @param floorNs nanoseconds per floor lookup and copy
 * @param hitFraction the share of the timed facade reads that the cache served without a miss
 * @param kernelOverCached kernel ns / cached ns of each round, the two loops of a round having read the
 *     same offsets one after the other
 * @param cachedOverFloor cached ns / floor ns of each round
 */
record HitProbe(long setBytes, double kernelNs, double cachedNs, double floorNs, double hitFraction, Spread kernelOverCached,
    Spread cachedOverFloor) {
  static final int READ = 4096;
  private static final String MOUNT = "/hit";

  /**
   * Measures the set {@code file} (already on the export, generation 0 of its pattern, {@code setBytes}
   * long), for {@code rounds} rounds of {@code opsPerRound} reads each.
   */
  static HitProbe measure(Fixture fixture, String file, long setBytes, int opsPerRound, int rounds) throws IOException {
    Path onDisk = fixture.onDisk(file);
    if (onDisk == null) {
      throw new IllegalStateException("the hit probe compares with the kernel and needs the export on this machine");
    }
    int chunks = Math.toIntExact(setBytes / READ);
    UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(setBytes);
    // At least as many offsets as chunks, random over the whole set; the rounds walk through them.
    long[] offsets = new long[Math.max(1 << 16, Integer.highestOneBit(chunks - 1) << 1)];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = (long) rng.nextInt(chunks) * READ;
    }
    DataPattern pattern = CellRunner.patternOf(file);
    CacheConfig config = CacheConfig.defaults().withCapacity(setBytes + setBytes / 4 + (64L << 20)).withSlabBytes(64L << 20);
    try (DafsSession session = Targets.connect(fixture.server(), fixture.secret(), "bench-hit", "tcp");
        CacheManager cache = CacheManager.create(session, config);
        DafsPosix posix = new DafsPosix();
        FileChannel kernel = FileChannel.open(onDisk, StandardOpenOption.READ)) {
      posix.mount(MOUNT, cache);
      int fd = posix.open(MOUNT + "/" + file, DafsPosix.O_RDONLY);
      if (fd < 0) {
        throw Targets.failure(posix, "open", file);
      }
      byte[] dst = new byte[READ];
      ByteBuffer direct = ByteBuffer.allocateDirect(READ);
      // Fill the cache and the floor, checking every chunk on the way; the reads warm the page cache too.
      ConcurrentHashMap<Long, byte[]> floor = new ConcurrentHashMap<>(chunks * 2);
      Long[] keys = new Long[chunks];
      byte[] big = new byte[1 << 20];
      for (long at = 0; at < setBytes; at += big.length) {
        int n = (int) Math.min(big.length, setBytes - at);
        if (posix.pread(fd, big, 0, n, at) != n || !pattern.matches(ByteBuffer.wrap(big), 0, n, at, 0)) {
          throw new CellRunner.WrongDataException(file + ": the cache returned wrong bytes near " + at);
        }
      }
      for (int i = 0; i < chunks; i++) {
        keys[i] = (long) i;
        byte[] b = new byte[READ];
        kernel.read(ByteBuffer.wrap(b), (long) i * READ);
        floor.put(keys[i], b);
      }
      for (long at : offsets) {
        if (posix.pread(fd, dst, 0, READ, at) != READ || !pattern.matches(ByteBuffer.wrap(dst), 0, READ, at, 0)) {
          throw new CellRunner.WrongDataException(file + ": a cached read returned wrong bytes at " + at);
        }
      }
      double[] k = new double[rounds];
      double[] c = new double[rounds];
      double[] f = new double[rounds];
      long sink = 0;
      long kernelBytes = 0;
      long cachedBytes = 0;
      CacheStats before = cache.stats();
      int mask = offsets.length - 1;
      for (int r = 0; r < rounds; r++) {
        // Each round goes on where the last stopped, so the rounds together walk all the offsets; the
        // three loops of a round read the same ones.
        int base = (int) ((long) r * opsPerRound & mask);
        long t0 = System.nanoTime();
        for (int i = 0; i < opsPerRound; i++) {
          direct.clear();
          kernelBytes += kernel.read(direct, offsets[(base + i) & mask]);
          sink += direct.get(7);
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < opsPerRound; i++) {
          cachedBytes += posix.pread(fd, dst, 0, READ, offsets[(base + i) & mask]);
          sink += dst[7];
        }
        long t2 = System.nanoTime();
        for (int i = 0; i < opsPerRound; i++) {
          long at = offsets[(base + i) & mask];
          byte[] b = floor.get(keys[(int) (at / READ)]);
          System.arraycopy(b, 0, dst, 0, READ);
          sink += dst[7];
        }
        long t3 = System.nanoTime();
        k[r] = (t1 - t0) / (double) opsPerRound;
        c[r] = (t2 - t1) / (double) opsPerRound;
        f[r] = (t3 - t2) / (double) opsPerRound;
      }
      CacheStats after = cache.stats();
      long misses = after.misses() - before.misses();
      long reads = (long) opsPerRound * rounds;
      // The timed loops do not look at the bytes; the read counts, and the data afterwards, are checked.
      if (kernelBytes != reads * READ || cachedBytes != reads * READ) {
        throw new CellRunner.WrongDataException(file + ": short reads in the timed loops (kernel " + kernelBytes + ", cached "
            + cachedBytes + " of " + reads * READ + " bytes)");
      }
      for (long at : offsets) {
        if (posix.pread(fd, dst, 0, READ, at) != READ || !pattern.matches(ByteBuffer.wrap(dst), 0, READ, at, 0)) {
          throw new CellRunner.WrongDataException(file + ": after the timed loops, a cached read returned wrong bytes at " + at);
        }
      }
      posix.close(fd);
      if (sink == 42) {
        System.out.print(""); // keeps the loops' loads alive
      }
      double[] kc = new double[rounds];
      double[] cf = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        kc[r] = k[r] / c[r];
        cf[r] = c[r] / f[r];
      }
      return new HitProbe(setBytes, median(k), median(c), median(f), 1.0 - Math.min(reads, misses) / (double) reads,
          Spread.of(kc), Spread.of(cf));
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
