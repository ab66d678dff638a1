package org.cachedafs.cache;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many blocks of the whole cache are dirty, and the three points that decide what a writer that
 * dirties another block must do, after Linux's dirty_background_ratio and dirty_ratio:
 * <ul>
 *   <li>up to the <b>low</b> watermark, nothing: no writer ever waits on write-back there;
 *   <li>past it, write-back starts in the background, and the writer goes on;
 *   <li>past the <b>throttle</b> point (three quarters of the way from low to high) the writer pauses
 *       briefly, longer the nearer the hard limit, so it slows to the write-back's pace instead of
 *       meeting the limit;
 *   <li>past the <b>high</b> watermark, the hard limit, it writes its file back itself before going on.
 * </ul>
 * Dirty blocks have no room of their own in the pool: the hard limit is what keeps them from taking all
 * of it, and the quarter above it (by default) stays for clean blocks, fills and read-ahead. A write
 * into a block that is already dirty takes no memory, so it is never held back: random writes over a
 * set that fits the cache run at memory speed once its blocks are cached.
 *
 * <p>Locking: none; the count is atomic, the points fixed.
 */
final class DirtyLimits {
  private final AtomicInteger dirty = new AtomicInteger();
  final int low;
  final int throttle;
  final int high;

  DirtyLimits(int totalBlocks, CacheConfig config) {
    this.high = Math.max(1, (int) (totalBlocks * config.dirtyFraction()));
    this.low = Math.max(1, Math.min(high, (int) (totalBlocks * config.dirtyBackgroundFraction())));
    this.throttle = low + (high - low) * 3 / 4;
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
}
