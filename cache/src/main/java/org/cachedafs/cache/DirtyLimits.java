package org.cachedafs.cache;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many blocks of the whole cache are dirty, and the limit past which a writer writes back before
 * going on. Dirty blocks have no room of their own in the pool: this limit is what keeps them from
 * taking all of it.
 *
 * <p>Locking: none; the count is atomic, the limit fixed.
 */
final class DirtyLimits {
  private final AtomicInteger dirty = new AtomicInteger();
  private final int limit;

  DirtyLimits(int totalBlocks, CacheConfig config) {
    this.limit = Math.max(1, (int) (totalBlocks * config.dirtyFraction()));
  }

  void dirtied() {
    dirty.incrementAndGet();
  }

  void cleaned() {
    dirty.decrementAndGet();
  }

  int dirty() {
    return dirty.get();
  }

  /** Whether dirty blocks are past the limit, so a writer must write back before going on. */
  boolean overLimit() {
    return dirty.get() > limit;
  }
}
