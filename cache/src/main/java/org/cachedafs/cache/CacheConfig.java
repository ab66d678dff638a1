package org.cachedafs.cache;

import java.time.Duration;

/**
 * How a {@link CacheManager} is sized and behaves. See docs/cache.md for each knob and its default.
 *
 * @param blockSize bytes per block: a power of two from 4 KiB to 1 MiB
 * @param capacityBytes total cache memory; rounded down to whole blocks and allocated at start
 * @param slabBytes size of each slab (one registration each); at most the capacity
 * @param dirtyFraction the share of blocks that may be dirty before writers flush as they go
 * @param readAhead whether sequential reads are detected and read ahead
 * @param maxReadAheadBlocks the largest read-ahead window, in blocks
 * @param lockMemory whether to mlock(2) the slabs (if the process may)
 * @param flushInterval how often the background flusher writes dirty blocks back
 */
public record CacheConfig(int blockSize, long capacityBytes, long slabBytes, double dirtyFraction, boolean readAhead,
    int maxReadAheadBlocks, boolean lockMemory, Duration flushInterval) {
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
    if (maxReadAheadBlocks < 0) {
      throw new IllegalArgumentException("read-ahead window must not be negative");
    }
  }

  /** 64 KiB blocks, 256 MiB in 64 MiB slabs, a quarter dirty at most, read-ahead up to 32 blocks, mlock, 1 s flush. */
  public static CacheConfig defaults() {
    return new CacheConfig(64 << 10, 256L << 20, 64L << 20, 0.25, true, 32, true, Duration.ofSeconds(1));
  }

  public CacheConfig withBlockSize(int b) {
    return new CacheConfig(b, capacityBytes, Math.max(b, slabBytes), dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, flushInterval);
  }

  public CacheConfig withCapacity(long bytes) {
    return new CacheConfig(blockSize, bytes, Math.min(slabBytes, bytes), dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, flushInterval);
  }

  public CacheConfig withSlabBytes(long bytes) {
    return new CacheConfig(blockSize, capacityBytes, bytes, dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, flushInterval);
  }

  public CacheConfig withDirtyFraction(double f) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, f, readAhead, maxReadAheadBlocks, lockMemory, flushInterval);
  }

  public CacheConfig withReadAhead(boolean on) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, on, maxReadAheadBlocks, lockMemory, flushInterval);
  }

  public CacheConfig withMaxReadAheadBlocks(int n) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, readAhead, n, lockMemory, flushInterval);
  }

  public CacheConfig withLockMemory(boolean on) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, readAhead, maxReadAheadBlocks, on, flushInterval);
  }

  public CacheConfig withFlushInterval(Duration d) {
    return new CacheConfig(blockSize, capacityBytes, slabBytes, dirtyFraction, readAhead, maxReadAheadBlocks, lockMemory, d);
  }

  int blocks() {
    return (int) Math.min(Integer.MAX_VALUE, capacityBytes / blockSize);
  }
}
