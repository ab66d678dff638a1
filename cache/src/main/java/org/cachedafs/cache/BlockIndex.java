package org.cachedafs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * The replacement policy: Caffeine (W-TinyLFU) over the clean blocks. Caffeine decides admission and
 * eviction; the cache hands it only blocks it may evict (clean and filled) and tells it of every hit.
 * Dirty blocks and blocks being filled stay outside it, so the policy can never evict a pinned block;
 * the pool's size bounds clean, dirty and filling blocks together.
 *
 * <p>Eviction runs on the calling thread ({@code executor(Runnable::run)}), so a block is out of the
 * index by the time the put that pushed it out returns.
 */
final class BlockIndex {
  private final Cache<BlockKey, Block> cache;
  private final Counters counters;

  BlockIndex(long maximumClean, Counters counters) {
    this.counters = counters;
    this.cache = Caffeine.newBuilder()
        .maximumSize(maximumClean)
        .executor(Runnable::run)
        .<BlockKey, Block>evictionListener((key, block, cause) -> {
          // Runs inside Caffeine's computeIfPresent for the key, so it is atomic with remove(b) of the
          // same key; the key's identity says the block still has the assignment it was indexed under.
          if (cause.wasEvicted() && block != null && block.key == key) {
            evicted(block);
          }
        })
        .build();
  }

  void add(Block b) {
    cache.put(b.key, b);
  }

  /**
   * Takes a block out of the policy (it is about to become dirty, or its file dropped it); no eviction
   * callback. Once this returns the policy can no longer evict the block: an eviction of it either
   * finished before (and took it out of its table) or will not happen.
   */
  void remove(Block b) {
    cache.asMap().remove(b.key, b);
  }

  /** Tells the policy about a hit: one lookup with the block's own key, no allocation. */
  void touch(Block b) {
    cache.getIfPresent(b.key);
  }

  /** Runs pending maintenance, so evictions due are done now. */
  void cleanUp() {
    cache.cleanUp();
  }

  /** Evicts up to {@code n} of the coldest blocks at once, when the pool has run dry. */
  void evictColdest(int n) {
    cache.policy().eviction().ifPresent(e -> {
      for (BlockKey k : e.coldest(n).keySet()) {
        // Inside the key's computeIfPresent, as Caffeine's own evictions are.
        cache.asMap().computeIfPresent(k, (key, b) -> {
          if (b.key == key) {
            evicted(b);
          }
          return null;
        });
      }
    });
  }

  /**
   * The policy evicted a clean block (inside Caffeine's computeIfPresent for its key, so no cached
   * write can be making it dirty now): out of its file's table, back to the pool once unpinned.
   */
  private void evicted(Block b) {
    FileCache fc = b.owner;
    if (fc != null && fc.table.compareAndSet(b.blockNo, b, null)) {
      counters.evictions.increment();
      b.retire();
    }
  }

  long size() {
    return cache.estimatedSize();
  }
}
