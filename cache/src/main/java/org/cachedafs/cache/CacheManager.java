package org.cachedafs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.delegation.DelegationTracker;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.slf4j.Logger;

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
 * to each open of the file and logged, never lost silently. A delegation is used only while the
 * session knows its lease to be held ({@link DafsSession#leaseHeld}): past it (a partition longer than
 * the lease) the server may have revoked it unheard, so reads and writes go to the server, which
 * answers once it is reached again, and the cache serves again only if nothing was revoked meanwhile.
 *
 * <p><b>Parts.</b> The manager wires one object per concept and owns them: the {@link FileRegistry};
 * the {@link Allocator} over the {@link BlockPool} and the policy; the {@link BlockLoader} (misses);
 * the {@link ReadAheadBudget} and the {@link Prefetcher} (read-ahead); the {@link CachedWriter}; the
 * {@link WriteBack} of one file and the {@link WriteBackScheduler} with its {@link DirtyLimits};
 * {@link Invalidation}; and {@link Recalls} (grants, recalls, revocations, failed transfers). Each
 * class says what it locks.
 *
 * <p>The manager owns its pool, threads and the session's recall listener; the caller keeps owning the
 * session and closes it after the manager. If the session ends for good ({@link DafsSession#failure()}),
 * its delegations end with it: every file is dropped as on a revocation (unflushed bytes reported as
 * lost), and every later operation fails with the session's failure, which names the cause.
 */
public final class CacheManager implements AutoCloseable {
  private static final Logger log = Loggers.get(CacheManager.class);

  final DafsSession session;
  final CacheConfig config;
  final int blockSize;
  final int blockShift;
  /** The server's largest file size (STATFS): writes are refused past it before the cache takes them. */
  final long maxFileSize;
  final Counters counters = new Counters();
  private final BlockPool pool;
  /** Large reads and writes that go to the server move through these by direct transfer. */
  final BounceBuffers bounce;
  final BlockIndex index;
  final DirtyLimits dirtyLimits;
  final ReadAheadBudget readAheadBudget;
  final Allocator allocator;
  final FileRegistry files = new FileRegistry();
  final Recalls recalls;
  final Invalidation invalidation;
  final BlockLoader loader;
  final Prefetcher prefetcher;
  final CachedWriter writer;
  final WriteBack writeBack;
  final WriteBackScheduler scheduler;
  private final Namespace namespace;
  private volatile boolean closed;

  private CacheManager(DafsSession session, CacheConfig config) {
    this.session = session;
    this.config = config;
    this.blockSize = config.blockSize();
    this.blockShift = Integer.numberOfTrailingZeros(blockSize);
    ByteBuffer zeros = ByteBuffer.allocateDirect(blockSize).asReadOnlyBuffer();
    this.maxFileSize = maxFileSize(session);
    this.pool = new BlockPool(session, config);
    this.bounce = new BounceBuffers(session, 8, 1 << 20);
    int total = pool.total();
    this.dirtyLimits = new DirtyLimits(total, config);
    // Room kept out of the policy's reach for fills in flight. Dirty blocks get none of their own: a
    // read-only workload may use the whole cache for clean blocks (with dirtyFraction reserved, a
    // 1 GiB set missed in a 1.3 GiB cache), and a writer whose block finds the pool dry evicts the
    // coldest clean blocks itself (Allocator).
    int reserve = Math.max(2, Math.min(64, total / 8));
    this.index = new BlockIndex(Math.max(1, total - reserve), counters);
    this.readAheadBudget = new ReadAheadBudget(session.credits(), total, config, index, counters);
    this.allocator = new Allocator(pool, index, readAheadBudget);
    this.invalidation = new Invalidation(session, index, readAheadBudget, counters, blockSize, zeros);
    this.recalls = new Recalls(session, files);
    this.loader = new BlockLoader(session, allocator, index, readAheadBudget, recalls, counters, blockSize, zeros);
    this.prefetcher = new Prefetcher(session, allocator, readAheadBudget, loader, counters, blockSize);
    this.writeBack = new WriteBack(session, bounce, index, invalidation, recalls, counters, blockSize);
    this.scheduler = new WriteBackScheduler(files, writeBack, dirtyLimits, counters, config);
    recalls.wire(invalidation, writeBack, scheduler);
    this.writer = new CachedWriter(allocator, loader, index, readAheadBudget, blockSize, zeros, scheduler);
    this.namespace = new Namespace(this);
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

  /** The server's names by path, with this cache's name cache: what the doors look up, create, remove and rename through. */
  public Namespace namespace() {
    return namespace;
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
    OpenFile of = before != null ? invalidation.openTruncating(before, () -> session.open(dir, name, onServer))
        : session.open(dir, name, onServer);
    CachedFile result = files.open(of.handle(), id -> new FileCache(id, of.handle(), this),
        fc -> new CachedFile(this, fc, of, mode, uncached));
    // The tracker first: it knows whether the grant is live or stale (this client returned or lost that
    // delegation already), and the file caches only while the tracker holds it.
    SessionDelegations delegations = recalls.delegations();
    if (delegations.opened(of)) {
      long id = of.delegationId();
      recalls.granted(result.file(), of, () -> delegations.tracker().state(id) == DelegationTracker.State.HELD);
    }
    return result;
  }

  private FileCache existing(FileHandle dir, String name) {
    try {
      return files.get(session.lookup(dir, name).handle());
    } catch (IOException e) {
      return null;
    }
  }

  void closed(CachedFile f, FileCache fc) {
    files.closed(f, fc);
    if (fc.unlinked && fc.opens.isEmpty()) {
      invalidation.removed(fc);
      files.forgetIfUnused(fc);
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
      recalls.delegations().fileRemoved(id);
    }
    if (!fc.opens.isEmpty()) {
      fc.unlinked = true;
    } else {
      invalidation.removed(fc);
      files.forgetIfUnused(fc);
    }
  }

  /**
   * Removes {@code name} from {@code dir} on the server and tells the cache ({@link #removed}), so a
   * door that removes names cannot forget the second half. Doors go through {@link Namespace#remove},
   * which also forgets the path in the name cache.
   */
  public void remove(FileHandle dir, String name) throws IOException {
    FileHandle gone = session.lookup(dir, name).handle();
    session.remove(dir, name);
    removed(gone);
  }

  /**
   * Renames on the server, as rename(2): a file the new name held before is {@link #removed} from
   * the cache (this client's own rename recalls nothing, so the cache must be told). Doors go through
   * {@link Namespace#rename}, which also forgets both paths in the name cache: the moved file keeps its
   * delegation, so a remembered old path would otherwise still find it.
   */
  public void rename(FileHandle fromDir, String fromName, FileHandle toDir, String toName) throws IOException {
    FileHandle moving = session.lookup(fromDir, fromName).handle();
    FileHandle replaced = null;
    try {
      replaced = session.lookup(toDir, toName).handle();
    } catch (DafsException e) {
      // No target: a plain rename.
    }
    session.rename(fromDir, fromName, toDir, toName);
    if (replaced != null && !replaced.equals(moving)) {
      removed(replaced);
    }
  }

  /** The delegation this client caches the file under now, or 0. */
  public long cachingDelegation(FileHandle handle) {
    FileCache fc = files.get(handle);
    return fc == null || fc.mode == FileCache.NONE || !session.leaseHeld() ? 0 : fc.delegationId;
  }

  /** What the cache holds for a file, or null. */
  FileCache file(FileHandle handle) {
    return files.get(handle);
  }

  SessionDelegations delegations() {
    return recalls.delegations();
  }

  /**
   * Changes a file's attributes on the server (mode, times, size) and keeps what the cache holds for it
   * in step: the same session's change recalls nothing, so the cache must be told.
   */
  public FileAttributes setattr(FileHandle handle, org.cachedafs.protocol.SetAttributes change) throws IOException {
    FileCache fc = files.get(handle);
    if (fc != null && fc.hasDirty()) {
      writeBack.flush(fc, fc.writer()); // a size or time set now must not be undone by older dirty blocks written back later
    }
    FileAttributes after = session.setattr(handle, null, change);
    if (fc != null) {
      invalidation.attributesSet(fc, after, change);
    }
    FileAttributes mine = fc == null || !session.leaseHeld() ? null : fc.cachedAttributes();
    return mine != null ? mine : after;
  }

  /**
   * The attributes this client sees for a file it caches (its own size and times under a delegation),
   * or null if it does not cache the file now.
   */
  public FileAttributes cachedAttributes(FileHandle handle) {
    FileCache fc = files.get(handle);
    return fc == null || !session.leaseHeld() ? null : fc.cachedAttributes();
  }

  public CacheStats stats() {
    DelegationTracker.Stats d = recalls.delegations().tracker().stats();
    return new CacheStats(counters.hits.sum(), counters.misses.sum(), counters.evictions.sum(), counters.readAheadIssued.sum(),
        counters.readAheadUsed.sum(), counters.bytesFlushed.sum(), counters.writeBacks.sum(), counters.writeThroughs.sum(), d.recalls(), d.returns(),
        d.revocations(), d.recallToReturnNanos(), counters.lostBytes.sum(), pool.total(), pool.used(), dirtyLimits.dirty(),
        pool.slabs(), pool.locked(), counters.writerThrottles.sum(), counters.writerStalls.sum(), writeBack.inFlight(),
        counters.backgroundWriteBacks.sum());
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
    scheduler.stop();
    scheduler.flushAllQuietly();
    session.setRecallListener(null);
    recalls.shutdown();
    for (FileCache fc : files.all()) {
      try {
        recalls.recallForClose(fc);
      } catch (RuntimeException e) {
        // One file's failure must not keep the others from being written back, or the memory freed.
        log.error("write-back of {} at close failed: {}", fc.handle, e.toString());
      }
    }
    files.clear();
    readAheadBudget.awaitIdle();
    bounce.close();
    pool.close();
  }

  static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
