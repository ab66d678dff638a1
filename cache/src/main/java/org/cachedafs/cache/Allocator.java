package org.cachedafs.cache;

/**
 * Hands out blocks: from the pool while it has some, else by evicting the policy's coldest clean
 * blocks, else by taking back read-ahead nobody used. Never waits: null when nothing can be had, and
 * the caller goes to the server instead.
 *
 * <p>Locking: none of its own. The pool has its monitor; evictions are the policy's
 * ({@link BlockIndex}), which runs them inside Caffeine's {@code computeIfPresent} for the block's key.
 */
final class Allocator {
  private final BlockPool pool;
  private final BlockIndex index;
  private final ReadAheadBudget readAhead;

  Allocator(BlockPool pool, BlockIndex index, ReadAheadBudget readAhead) {
    this.pool = pool;
    this.index = index;
    this.readAhead = readAhead;
  }

  /** A block from the pool, evicting clean blocks if it has run dry; null if none can be had now. */
  Block allocate(FileCache fc, long bn) {
    Block b = pool.allocate(fc, bn);
    if (b == null) {
      index.cleanUp();
      b = pool.allocate(fc, bn);
    }
    if (b == null) {
      index.evictColdest(16);
      b = pool.allocate(fc, bn);
    }
    if (b == null) {
      readAhead.reclaim(16);
      b = pool.allocate(fc, bn);
    }
    return b;
  }
}
