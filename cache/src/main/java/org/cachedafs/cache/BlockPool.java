package org.cachedafs.cache;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.cachedafs.client.DafsSession;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.Region;
import org.slf4j.Logger;

/**
 * The cache's memory: a few large direct slabs allocated once, each registered once with the
 * session's transport (so no transfer ever pays for registration), carved into blocks. It never
 * allocates more: when every block is in use, the caller evicts or goes without.
 *
 * <p>Ownership: the pool owns the slabs and their regions, and releases them in {@link #close}, after
 * the cache has stopped all transfers.
 */
final class BlockPool implements AutoCloseable {
  private static final Logger log = Loggers.get(BlockPool.class);

  private final int blockSize;
  private final Block[] blocks;
  private final List<ByteBuffer> slabs = new ArrayList<>();
  private final List<Region> regions = new ArrayList<>();
  private final MemoryLock memoryLock;
  private final boolean locked;
  /** Guarded by this. */
  private final int[] free;
  /** Guarded by this. */
  private int freeCount;

  BlockPool(DafsSession session, CacheConfig config) {
    this.blockSize = config.blockSize();
    int total = config.blocks();
    int perSlab = (int) (config.slabBytes() / blockSize);
    this.blocks = new Block[total];
    this.free = new int[total];
    this.memoryLock = config.lockMemory() ? MemoryLock.load() : null;
    boolean allLocked = config.lockMemory();
    String notLocked = config.lockMemory() ? null : "disabled by configuration";
    int made = 0;
    while (made < total) {
      int n = Math.min(perSlab, total - made);
      // Placed by the transport (a shared mapping on shm), so that the server can write into it.
      Region region = session.allocate(n * blockSize);
      ByteBuffer slab = region.buffer();
      if (memoryLock != null) {
        String noHugePages = memoryLock.adviseHugePages(slab);
        if (noHugePages != null) {
          log.debug("cache slab of {} MiB stays on small pages: {}", slab.capacity() >> 20, noHugePages);
        }
        String why = memoryLock.lock(slab);
        if (why != null) {
          allLocked = false;
          notLocked = why;
        }
      }
      slabs.add(slab);
      regions.add(region);
      for (int i = 0; i < n; i++) {
        int offset = i * blockSize;
        ByteBuffer memory = slab.slice(offset, blockSize);
        blocks[made] = new Block(this, made, region, offset, memory);
        free[freeCount++] = made;
        made++;
      }
    }
    this.locked = allLocked;
    if (!locked) {
      log.warn("cache memory ({} MiB in {} slabs) is not locked in RAM: {}", (long) total * blockSize >> 20, slabs.size(), notLocked);
    }
  }

  int blockSize() {
    return blockSize;
  }

  int total() {
    return blocks.length;
  }

  int slabs() {
    return slabs.size();
  }

  boolean locked() {
    return locked;
  }

  synchronized int used() {
    return blocks.length - freeCount;
  }

  /** A free block assigned to {@code fc}'s block {@code no} and pinned once, or null if none is free. */
  Block allocate(FileCache fc, long no) {
    Block b;
    synchronized (this) {
      if (freeCount == 0) {
        return null;
      }
      b = blocks[free[--freeCount]];
    }
    b.assign(fc, no);
    return b;
  }

  /** Back to the pool; called exactly once per assignment, by {@link Block}. */
  synchronized void release(Block b) {
    b.owner = null;
    free[freeCount++] = b.index;
  }

  @Override
  public void close() {
    // Unlocked while the memory is still there: closing a region frees memory the transport
    // allocated (an unmapped shared segment on shm), and its views are invalid from then on.
    if (memoryLock != null && locked) {
      for (ByteBuffer s : slabs) {
        memoryLock.unlock(s);
      }
    }
    for (Region r : regions) {
      r.close();
    }
  }
}
