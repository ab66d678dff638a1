package org.cachedafs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.delegation.DelegationTracker;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cacheDAFS: a block cache in the application's own address space, between it and a DAFS session,
 * that caches a file only while the session holds an open delegation on it, so every client sees the
 * same bytes.
 *
 * <p><b>Design.</b> The memory is a {@link BlockPool} of a few slabs registered once with the session's
 * transport. Each file has a {@link FileCache} whose {@link BlockTable}, indexed by block number, is
 * the hit path: table → pinned {@link Block} → copy, with one volatile read of the file's delegation
 * mode and no lock, allocation or system call. Caffeine ({@link BlockIndex}) is the replacement policy
 * over clean blocks and is told of every hit. A miss reads the block by a direct transfer into the
 * block's own memory, once however many readers want it. Sequential readers get read-ahead
 * ({@link ReadAhead}). Under a WRITE delegation writes stay in the cache and are written back by direct
 * transfers out of the block memory: on fsync, on close, past the dirty limit, every flush interval,
 * and when the delegation is recalled; without one they go straight to the server.
 *
 * <p>Delegations come through {@link SessionDelegations}: on a recall the file's dirty blocks are
 * written back, its blocks and attributes dropped, and only then is the delegation returned; on a
 * revocation everything is dropped, and bytes that were not written back are reported as an I/O error
 * to each open of the file and logged, never lost silently.
 *
 * <p>The manager owns its pool, threads and the session's recall listener; the caller keeps owning the
 * session and closes it after the manager. If the session ends for good ({@link DafsSession#failure()}),
 * its delegations end with it: every file is dropped as on a revocation (unflushed bytes reported as
 * lost), and every later operation fails with the session's failure, which names the cause.
 */
public final class CacheManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CacheManager.class);

  final DafsSession session;
  final CacheConfig config;
  final int blockSize;
  final int blockShift;
  final BlockPool pool;
  /** Large reads and writes that go to the server move through these by direct transfer. */
  final BounceBuffers bounce;
  final BlockIndex index;
  final Counters counters = new Counters();
  final AtomicInteger dirtyBlocks = new AtomicInteger();
  /** A block of zeros, the source for zeroing block memory. */
  final ByteBuffer zeros;
  /** The server's largest file size (STATFS): writes are refused past it before the cache takes them. */
  final long maxFileSize;
  private final int dirtyLimit;
  private final Semaphore readAheadCredits;
  /** Read-ahead blocks not yet used, oldest first: out of the policy, so reclaimed here when memory runs short. */
  private final java.util.concurrent.ConcurrentLinkedQueue<Block> parked = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final AtomicInteger parkedCount = new AtomicInteger();
  /** Entries in {@link #parked}, stale ones (blocks used since) included. */
  private final AtomicInteger parkedQueued = new AtomicInteger();
  private final int parkedLimit;
  /** Blocks reserved by read-ahead requests in flight, which count against {@link #parkedLimit}. */
  private final AtomicInteger readAheadInFlight = new AtomicInteger();
  private final SessionDelegations delegations;
  private final Map<FileHandle, FileCache> files = new ConcurrentHashMap<>();
  private final AtomicLong fileIds = new AtomicLong(1);
  private final ExecutorService recalls;
  private final ScheduledExecutorService flusher;
  private volatile boolean closed;

  private CacheManager(DafsSession session, CacheConfig config) {
    this.session = session;
    this.config = config;
    this.blockSize = config.blockSize();
    this.blockShift = Integer.numberOfTrailingZeros(blockSize);
    this.zeros = ByteBuffer.allocateDirect(blockSize).asReadOnlyBuffer();
    this.maxFileSize = maxFileSize(session);
    this.pool = new BlockPool(session, config);
    this.bounce = new BounceBuffers(session, 8, 1 << 20);
    int total = pool.total();
    this.dirtyLimit = Math.max(1, (int) (total * config.dirtyFraction()));
    // Room kept out of the policy's reach for fills in flight. Dirty blocks get none of their own: a
    // read-only workload may use the whole cache for clean blocks (with dirtyFraction reserved, a
    // 1 GiB set missed in a 1.3 GiB cache), and a writer whose block finds the pool dry evicts the
    // coldest clean blocks itself (allocate).
    int reserve = Math.max(2, Math.min(64, total / 8));
    this.index = new BlockIndex(Math.max(1, total - reserve), this::evicted);
    this.readAheadCredits = new Semaphore(Math.max(1, session.credits() / 2));
    this.parkedLimit = Math.max(1, Math.min(total / 4, 4 * Math.max(1, config.maxReadAheadBlocks())));
    this.recalls = Executors.newFixedThreadPool(2, daemon("dafs-cache-recall"));
    this.flusher = Executors.newSingleThreadScheduledExecutor(daemon("dafs-cache-writeback"));
    this.delegations = new SessionDelegations(session, new DelegationTracker.Listener<>() {
      @Override
      public CompletableFuture<Void> onRecall(DelegationTracker.Held<FileHandle> d) {
        FileCache fc = files.get(d.key());
        // Asked under the file's monitor, against an open applying this very grant right now: if the
        // file is not cached under it yet, it never will be (the grant finds it recalled).
        if (fc == null || !fc.cachesUnder(d.id())) {
          return CompletableFuture.completedFuture(null); // nothing cached under it: return at once
        }
        Runnable recall = () -> {
          fc.recall(d.id());
          forgetIfUnused(fc);
        };
        try {
          return CompletableFuture.runAsync(recall, recalls);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
          // The cache is closing and its recall threads are gone; the write-back must still come before
          // the return, so it runs on a thread of its own.
          return CompletableFuture.runAsync(recall, r -> daemon("dafs-cache-recall-at-close").newThread(r).start());
        }
      }

      @Override
      public void onRevoked(DelegationTracker.Held<FileHandle> d) {
        FileCache fc = files.get(d.key());
        if (fc != null) {
          // Off the caller's thread: it may be the transport's receive thread, which must not wait on
          // the file's flush lock. The file checks, under its monitor, that it is cached under d.
          try {
            recalls.execute(() -> {
              fc.revoked(d.id());
              forgetIfUnused(fc);
            });
          } catch (java.util.concurrent.RejectedExecutionException closing) {
            // The cache is closing: its close drops every file itself.
          }
        }
      }
    });
    long every = Math.max(10, config.flushInterval().toMillis());
    flusher.scheduleWithFixedDelay(this::flushAllQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  private static long maxFileSize(DafsSession session) {
    try {
      return session.statfs(session.root()).maxFileSize();
    } catch (DafsException e) {
      // The server still refuses writes past its limit; they then fail at write-back, not at write.
      log.warn("STATFS failed, so writes are not checked against the server's largest file size: {}", e.getMessage());
      return Long.MAX_VALUE;
    }
  }

  /** A cache over {@code session}; allocates and registers all of its memory now. */
  public static CacheManager create(DafsSession session, CacheConfig config) {
    return new CacheManager(session, config);
  }

  public DafsSession session() {
    return session;
  }

  public CacheConfig config() {
    return config;
  }

  /** Opens a file through the cache. */
  public CachedFile open(FileHandle dir, String name, OpenMode mode) throws IOException {
    return open(dir, name, mode, false);
  }

  /**
   * Opens a file; with {@code uncached} every read and write of this open goes to the server, like
   * {@code O_DIRECT} (after writing back anything this client cached for the file).
   */
  public CachedFile open(FileHandle dir, String name, OpenMode mode, boolean uncached) throws IOException {
    if (closed) {
      throw new DafsException(Status.IO, "the cache is closed");
    }
    DafsException lost = session.failure().orElse(null);
    if (lost != null) {
      // Before the truncating path below looks anything up: the session's end is the one clear reason.
      throw lost;
    }
    // Writes that miss need to read the rest of their block: a write-only open is read-write on the server.
    OpenMode onServer = mode.canWrite() && !mode.canRead()
        ? new OpenMode(mode.access() | Requests.Open.ACCESS_READ, mode.deny(), mode.flags(), mode.mode())
        : mode;
    boolean truncate = (mode.flags() & Requests.Open.TRUNCATE) != 0;
    FileCache before = truncate ? existing(dir, name) : null;
    OpenFile of = before != null ? before.openTruncating(() -> session.open(dir, name, onServer)) : session.open(dir, name, onServer);
    FileCache[] holder = new FileCache[1];
    CachedFile[] result = new CachedFile[1];
    files.compute(of.handle(), (h, fc) -> {
      if (fc == null) {
        fc = new FileCache(fileIds.getAndIncrement(), h, this);
      }
      holder[0] = fc;
      result[0] = new CachedFile(this, fc, of, mode, uncached);
      fc.addOpen(result[0]);
      return fc;
    });
    // The tracker first: it knows whether the grant is live or stale (this client returned or lost that
    // delegation already), and the file caches only while the tracker holds it.
    if (delegations.opened(of)) {
      long id = of.delegationId();
      holder[0].granted(of, () -> delegations.tracker().state(id) == DelegationTracker.State.HELD);
    }
    return result[0];
  }

  private FileCache existing(FileHandle dir, String name) {
    try {
      return files.get(session.lookup(dir, name).handle());
    } catch (IOException e) {
      return null;
    }
  }

  void closed(CachedFile f, FileCache fc) {
    files.computeIfPresent(fc.handle, (h, v) -> v != fc || !fc.removeOpen(f) ? v : null);
    if (fc.unlinked && !fc.hasOpens()) {
      fc.removed();
      forgetIfUnused(fc);
    }
  }

  /**
   * This client removed the file (or replaced it by a rename): the server dropped its delegation
   * without a recall. Once no open of it is left, what the cache holds for it goes; opens still in use
   * keep working on the unlinked file, as after unlink(2).
   */
  public void removed(FileHandle handle) {
    FileCache fc = files.get(handle);
    if (fc == null) {
      return;
    }
    long id = fc.delegationId;
    if (id != 0) {
      delegations.fileRemoved(id);
    }
    if (fc.hasOpens()) {
      fc.unlinked = true;
    } else {
      fc.removed();
      forgetIfUnused(fc);
    }
  }

  /** The delegation this client caches the file under now, or 0. */
  public long cachingDelegation(FileHandle handle) {
    FileCache fc = files.get(handle);
    return fc == null || fc.mode == FileCache.NONE ? 0 : fc.delegationId;
  }

  /** What the cache holds for a file, or null. */
  FileCache file(FileHandle handle) {
    return files.get(handle);
  }

  SessionDelegations delegations() {
    return delegations;
  }

  private void forgetIfUnused(FileCache fc) {
    files.computeIfPresent(fc.handle, (h, v) -> v == fc && fc.unused() ? null : v);
  }

  /** A block from the pool, evicting clean blocks if it has run dry; null if none can be had now. */
  Block allocate(FileCache fc, long bn) {
    Block b = pool.allocate(fc, bn);
    if (b == null) {
      index.cleanUp();
      b = pool.allocate(fc, bn);
    }
    if (b == null) {
      index.evictColdest(16, this::evicted);
      b = pool.allocate(fc, bn);
    }
    if (b == null) {
      reclaimParked(16);
      b = pool.allocate(fc, bn);
    }
    return b;
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

  /**
   * A transfer credit for one read-ahead request of up to {@code blocks} blocks. Returns how many blocks
   * the request may carry, or 0 if the session's read-ahead credits or the cache's room for unused
   * read-ahead are used up. Blocks in flight count against that room as well as those published and
   * not yet used; {@link #readAheadDone} gives back both.
   */
  int readAheadStart(int blocks) {
    if (parkedCount.get() >= parkedLimit) {
      reclaimParked(4); // the oldest unused read-ahead makes room for the newest
    }
    int room = parkedLimit - parkedCount.get() - readAheadInFlight.get();
    if (room <= 0 || !readAheadCredits.tryAcquire()) {
      return 0;
    }
    int n = Math.min(blocks, room);
    readAheadInFlight.addAndGet(n);
    return n;
  }

  /** A read-ahead block was published: it waits, out of the policy, for its first use. */
  void readAheadParked(Block b) {
    b.markPrefetched();
    parkedCount.incrementAndGet();
    parked.add(b);
    if (parkedQueued.incrementAndGet() > 4 * parkedLimit) {
      purgeParked();
    }
  }

  /** Drops queue entries of read-ahead blocks that have been used or dropped since, so the queue stays small. */
  private void purgeParked() {
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
  void firstUseOfReadAhead(FileCache fc, Block b) {
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
  void readAheadGone(Block b) {
    if (b.clearPrefetched()) {
      parkedCount.decrementAndGet();
    }
  }

  /** Memory ran short: take back the oldest read-ahead blocks nobody used. */
  private void reclaimParked(int n) {
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

  /** A read-ahead request that reserved {@code blocks} blocks ended. */
  void readAheadDone(int blocks) {
    readAheadInFlight.addAndGet(-blocks);
    readAheadCredits.release();
  }

  /** Past the dirty limit, a writer writes back before going on. */
  void throttle(FileCache fc, OpenFile writer) throws IOException {
    if (dirtyBlocks.get() <= dirtyLimit) {
      return;
    }
    fc.flush(writer);
    if (dirtyBlocks.get() > dirtyLimit) {
      flushAllQuietly();
    }
  }

  private void flushAllQuietly() {
    for (FileCache fc : files.values()) {
      if (fc.hasDirty()) {
        try {
          fc.flush(fc.writer());
        } catch (IOException e) {
          log.warn("background write-back of {} failed: {}", fc.handle, e.getMessage());
        }
      }
    }
  }

  /**
   * The exception to report for a failed transfer. DELEG_REVOKED means the server took the delegation
   * away: the file's cache is dropped, and the loss of any unflushed bytes becomes an I/O error.
   */
  IOException ioFailure(FileCache fc, OpenFile of, Throwable t) {
    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    if (cause instanceof DafsException d && d.status() == Status.DELEG_REVOKED) {
      delegations.refused(of, d);
      if (of.hasDelegation()) {
        fc.revoked(of.delegationId());
      }
      return new DafsException(Status.IO, "the server revoked this client's delegation on the file: " + d.getMessage(), d);
    }
    if (cause instanceof IOException io) {
      return io;
    }
    if (cause instanceof InterruptedException) {
      return new java.io.InterruptedIOException("interrupted");
    }
    return new DafsException(Status.IO, String.valueOf(cause), cause);
  }

  /**
   * Changes a file's attributes on the server (mode, times, size) and keeps what the cache holds for it
   * in step: the same session's change recalls nothing, so the cache must be told.
   */
  public org.cachedafs.protocol.FileAttributes setattr(FileHandle handle, org.cachedafs.protocol.SetAttributes change) throws IOException {
    FileCache fc = files.get(handle);
    if (fc != null && fc.hasDirty()) {
      fc.flush(fc.writer()); // a size or time set now must not be undone by older dirty blocks written back later
    }
    org.cachedafs.protocol.FileAttributes after = session.setattr(handle, null, change);
    if (fc != null) {
      fc.attributesSet(after, change);
    }
    FileAttributes mine = fc == null ? null : fc.cachedAttributes();
    return mine != null ? mine : after;
  }

  /**
   * The attributes this client sees for a file it caches (its own size and times under a delegation),
   * or null if it does not cache the file now.
   */
  public FileAttributes cachedAttributes(FileHandle handle) {
    FileCache fc = files.get(handle);
    return fc == null ? null : fc.cachedAttributes();
  }

  public CacheStats stats() {
    DelegationTracker.Stats d = delegations.tracker().stats();
    return new CacheStats(counters.hits.sum(), counters.misses.sum(), counters.evictions.sum(), counters.readAheadIssued.sum(),
        counters.readAheadUsed.sum(), counters.bytesFlushed.sum(), counters.writeBacks.sum(), counters.writeThroughs.sum(), d.recalls(), d.returns(),
        d.revocations(), d.recallToReturnNanos(), counters.lostBytes.sum(), pool.total(), pool.used(), dirtyBlocks.get(),
        pool.slabs(), pool.locked());
  }

  /**
   * Writes back everything dirty, drops the cache, returns no delegation by itself (the session's end
   * does that), and releases the memory. The session stays open; close it afterwards.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    flusher.shutdownNow();
    flushAllQuietly();
    session.setRecallListener(null);
    recalls.shutdown();
    try {
      recalls.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (FileCache fc : files.values()) {
      try {
        fc.recallForClose();
      } catch (RuntimeException e) {
        // One file's failure must not keep the others from being written back, or the memory freed.
        log.error("write-back of {} at close failed: {}", fc.handle, e.toString());
      }
    }
    files.clear();
    awaitReadAhead();
    bounce.close();
    pool.close();
  }

  /**
   * Waits, a bounded time, for read-ahead requests still in flight: the server is placing their
   * bytes in the slabs, and a slab deregistered under a transfer is a remote access error that
   * breaks the session's connection (as it would break an RDMA queue pair).
   */
  private void awaitReadAhead() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (readAheadInFlight.get() > 0 && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(100_000);
    }
    if (readAheadInFlight.get() > 0) {
      log.warn("closing the cache with {} read-ahead blocks still in flight", readAheadInFlight.get());
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
