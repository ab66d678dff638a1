package org.cachedafs.cache;

import java.time.Duration;

/**
 * How a {@link CacheManager} is sized and behaves. See docs/cache.md for each knob and its default.
 *
 * @param blockSize bytes per block: a power of two from 4 KiB to 1 MiB
 * @param capacityBytes total cache memory; rounded down to whole blocks and allocated at start
 * @param slabBytes size of each slab (one registration each); at most the capacity
 * @param dirtyFraction the hard limit (Linux's dirty_ratio): the share of blocks that may be dirty before a
 *     writer that dirties another block writes its file back before going on; writers are slowed
 *     smoothly over the last quarter of the way to it from {@code dirtyBackgroundFraction}
 * @param readAhead whether sequential reads are detected and read ahead
 * @param maxReadAheadBlocks the largest read-ahead window, in blocks
 * @param lockMemory whether to mlock(2) the slabs (if the process may)
 * @param flushInterval how often the background flusher writes dirty blocks back
 * @param dirtyBackgroundFraction the low watermark (Linux's dirty_background_ratio): past this share of
 *     dirty blocks, write-back starts in the background; below it no writer ever waits on write-back.
 *     Taken as at most {@code dirtyFraction}
 */
public record CacheConfig(int blockSize, long capacityBytes, long slabBytes, double dirtyFraction, boolean readAhead,
    int maxReadAheadBlocks, boolean lockMemory, Duration flushInterval, double dirtyBackgroundFraction) {
  public static final int MIN_BLOCK = 4 << 10;
  public static final int MAX_BLOCK = 1 << 20;

  public CacheConfig {
    if (blockSize < MIN_BLOCK || blockSize > MAX_BLOCK || Integer.bitCount(blockSize) != 1) {
      throw new IllegalArgumentException("block size must be a power of two from 4 KiB to 1 MiB, not " + blockSize);
    }
    if (capacityBytes < 8L * blockSize) {
      throw new IllegalArgumentException("the cache needs room for at least 8 blocks");
    }
    if (slabBytes < blockSize || slabBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a slab holds at least one block and at most 2 GiB");
    }
    if (!(dirtyFraction > 0 && dirtyFraction < 0.9)) {
      throw new IllegalArgumentException("dirty fraction must be in (0, 0.9)");
    }
    if (!(dirtyBackgroundFraction > 0 && dirtyBackgroundFraction < 0.9)) {
      throw new IllegalArgumentException("background dirty fraction must be in (0, 0.9)");
    }
    if (maxReadAheadBlocks < 0) {
      throw new IllegalArgumentException("read-ahead window must not be negative");
    }
  }

  /**
   * 64 KiB blocks, 256 MiB in 64 MiB slabs, background write-back past a quarter dirty and a hard limit
   * at three quarters, read-ahead up to 128 blocks, mlock, 1 s flush.
   */
  public static CacheConfig defaults() {
    return new CacheConfig(64 << 10, 256L << 20, 64L << 20, 0.75, true, 128, true, Duration.ofSeconds(1), 0.25);
  }

  public CacheConfig withBlockSize(int b) {
    return new CacheConfig(b, capacityBytes, Math.max(b, slabBytes), dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, flushInterval, dirtyBackgroundFraction);
  }

  public CacheConfig withCapacity(long bytes) {
    return new CacheConfig(blockSize, bytes, Math.min(slabBytes, bytes), dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, flushInterval, dirtyBackgroundFraction);
  }

  public CacheConfig withSlabBytes(long bytes) {
    return new CacheConfig(blockSize, capacityBytes, bytes, dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, flushInterval, dirtyBackgroundFraction);
  }

  public CacheConfig withDirtyFraction(double f) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, f, readAhead, maxReadAheadBlocks, lockMemory, flushInterval, dirtyBackgroundFraction);
  }

  public CacheConfig withDirtyBackgroundFraction(double f) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, flushInterval, f);
  }

  public CacheConfig withReadAhead(boolean on) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, on, maxReadAheadBlocks, lockMemory, flushInterval, dirtyBackgroundFraction);
  }

  public CacheConfig withMaxReadAheadBlocks(int n) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, readAhead, n, lockMemory, flushInterval, dirtyBackgroundFraction);
  }

  public CacheConfig withLockMemory(boolean on) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, readAhead, maxReadAheadBlocks, on, flushInterval, dirtyBackgroundFraction);
  }

  public CacheConfig withFlushInterval(Duration d) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, d, dirtyBackgroundFraction);
  }

  int blocks() {
    return (int) Math.min(Integer.MAX_VALUE, capacityBytes / blockSize);
  }
}
