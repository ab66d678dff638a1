package org.cachedafs.cache;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.cachedafs.logging.Loggers;
import org.slf4j.Logger;

/**
 * What read-ahead may use: half the session's credits for its requests, and a quarter of the cache
 * (at most four windows) for its blocks, in flight or published and not yet used. Unused read-ahead
 * blocks wait here, oldest first and out of the policy (a scan-resistant policy would evict them as
 * blocks seen once), until their first hit hands them to the policy or memory runs short and they
 * are taken back ({@link #reclaim}).
 *
 * <p>Locking: the counters and the queue are lock-free; a block's first use and its reclaim each win
 * {@link Block#clearPrefetched} at most once, and both publish into or take out of the file's table
 * under the file's monitor, against a cached write of the same block.
 */
final class ReadAheadBudget {
  private static final Logger log = Loggers.get(ReadAheadBudget.class);

  private final BlockIndex index;
  private final Counters counters;
  private final Semaphore credits;
  /** Read-ahead blocks not yet used, oldest first; stale entries (blocks used since) included. */
  private final ConcurrentLinkedQueue<Block> parked = new ConcurrentLinkedQueue<>();
  /** Read-ahead blocks published and not yet used. */
  private final AtomicInteger parkedCount = new AtomicInteger();
  /** Entries in {@link #parked}, stale ones included. */
  private final AtomicInteger parkedQueued = new AtomicInteger();
  private final int parkedLimit;
  /** Blocks reserved by read-ahead requests in flight, which count against {@link #parkedLimit}. */
  private final AtomicInteger inFlight = new AtomicInteger();

  ReadAheadBudget(int sessionCredits, int totalBlocks, CacheConfig config, BlockIndex index, Counters counters) {
    this.index = index;
    this.counters = counters;
    this.credits = new Semaphore(Math.max(1, sessionCredits / 2));
    this.parkedLimit = Math.max(1, Math.min(totalBlocks / 4, 4 * Math.max(1, config.maxReadAheadBlocks())));
  }

  /**
   * A transfer credit for one read-ahead request of up to {@code blocks} blocks. Returns how many blocks
   * the request may carry, or 0 if the session's read-ahead credits or the cache's room for unused
   * read-ahead are used up. Blocks in flight count against that room as well as those published and
   * not yet used; {@link #done} gives back both.
   */
  int start(int blocks) {
    if (parkedCount.get() >= parkedLimit) {
      reclaim(4); // the oldest unused read-ahead makes room for the newest
    }
    int room = parkedLimit - parkedCount.get() - inFlight.get();
    if (room <= 0 || !credits.tryAcquire()) {
      return 0;
    }
    int n = Math.min(blocks, room);
    inFlight.addAndGet(n);
    return n;
  }

  /** A read-ahead request that reserved {@code blocks} blocks ended. */
  void done(int blocks) {
    inFlight.addAndGet(-blocks);
    credits.release();
  }

  /** A read-ahead block was published: it waits, out of the policy, for its first use. */
  void parked(Block b) {
    b.markPrefetched();
    parkedCount.incrementAndGet();
    parked.add(b);
    if (parkedQueued.incrementAndGet() > 4 * parkedLimit) {
      purge();
    }
  }

  /** Drops queue entries of read-ahead blocks that have been used or dropped since, so the queue stays small. */
  private void purge() {
    for (int i = parkedQueued.get(); i > 0; i--) {
      Block b = parked.poll();
      if (b == null) {
        return;
      }
      if (b.isPrefetched()) {
        parked.add(b);
      } else {
        parkedQueued.decrementAndGet();
      }
    }
  }

  /** First hit on a read-ahead block: it was worth reading; from now on the policy decides. */
  void firstUse(FileCache fc, Block b) {
    if (b.clearPrefetched()) {
      parkedCount.decrementAndGet();
      counters.readAheadUsed.increment();
      synchronized (fc) {
        if (fc.table.get(b.blockNo) == b && !b.dirty) {
          index.add(b);
        }
      }
    }
  }

  /** A read-ahead block left the table (dropped, truncated, written) before or without a first read. */
  void gone(Block b) {
    if (b.clearPrefetched()) {
      parkedCount.decrementAndGet();
    }
  }

  /** Memory ran short: take back the oldest read-ahead blocks nobody used. */
  void reclaim(int n) {
    for (int i = 0; i < n; i++) {
      Block b = parked.poll();
      if (b == null) {
        return;
      }
      parkedQueued.decrementAndGet();
      FileCache fc = b.owner;
      if (fc == null) {
        continue;
      }
      // Under the file's monitor, against a first use or a cached write of the same block.
      synchronized (fc) {
        if (b.owner == fc && fc.table.get(b.blockNo) == b && b.clearPrefetched()) {
          parkedCount.decrementAndGet();
          if (fc.table.compareAndSet(b.blockNo, b, null)) {
            b.retire();
          }
        }
      }
    }
  }

  /**
   * Waits, a bounded time, for read-ahead requests still in flight: the server is placing their
   * bytes in the slabs, and a slab deregistered under a transfer is a remote access error that
   * breaks the session's connection (as it would break an RDMA queue pair).
   */
  void awaitIdle() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(100_000);
    }
    if (inFlight.get() > 0) {
      log.warn("closing the cache with {} read-ahead blocks still in flight", inFlight.get());
    }
  }
}
