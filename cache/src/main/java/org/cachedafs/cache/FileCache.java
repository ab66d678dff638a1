package org.cachedafs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;
import org.cachedafs.client.OpenFile;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;

/**
 * What the cache knows about one file: its delegation mode, its cached size, its blocks, and the
 * hit path. The slower paths work on it from outside: {@link BlockLoader} (misses), {@link Prefetcher}
 * (read-ahead), {@link CachedWriter} (cached writes), {@link WriteBack} (flushes), {@link Invalidation}
 * (drops, truncation, write-through) and {@link Recalls} (grants, recalls, revocations); each changes
 * this object's fields only through its methods, under the locks they name.
 *
 * <p><b>Mode.</b> {@link #mode} is the one volatile read a hit makes: NONE (no delegation: nothing is
 * cached, everything goes to the server), READ (reads cached, writes go through) or WRITE (reads and
 * writes cached, written back later). A recall sets NONE first, so no new cached operation starts;
 * cached writers run under this object's monitor and re-check the mode there, so taking the monitor
 * once drains them. Readers need no draining: a block they pinned stays valid to read.
 *
 * <p><b>Delegations.</b> The file is cached under one delegation at a time, {@link #delegationId}, and
 * only the monitor changes it: a grant sets it (after asking the tracker, under the monitor, that the
 * delegation is still held), and a recall or revocation first asks, under the monitor, whether it is
 * for that delegation ({@link #cachesUnder}). So a recall either sees the grant and drops what was cached
 * under it, or comes first and the grant is refused: never a delegation returned while the cache goes
 * on caching under it.
 *
 * <p><b>Epochs.</b> {@link #epoch} names what the table may hold now; every drop, truncation and new
 * grant ends one. A fill or a fresh block written into the cache remembers the epoch it began in and is
 * published only if that epoch is still current, under the monitor, so nothing read or decided under
 * an earlier delegation lands under a later one.
 *
 * <p><b>Locks.</b> The monitor guards the mode, delegation, epoch and size (volatile, so read without
 * it), the dirty set and the blocks' dirty marks, and every publication into or removal from the
 * table; it is never held across a network round trip. {@link #flushLock} serializes write-back with
 * truncation, grants and recall, so a block being flushed is never one truncation dropped; it is held
 * across the write-back's transfers, but only flush, truncate, grant and recall of this same file ever
 * wait on it. Lock order: flush lock, then the monitor, then {@link OpenSet}'s.
 */
final class FileCache {
  static final int NONE = 0;
  static final int READ = 1;
  static final int WRITE = 2;

  final long id;
  final FileHandle handle;
  final BlockTable table = new BlockTable();
  /** Held across a write-back's transfers; see the class comment. */
  final ReentrantLock flushLock = new ReentrantLock();
  /** Serializes this client's appends to the file, so that two appenders never pick the same end. */
  final ReentrantLock appendLock = new ReentrantLock();
  final OpenSet opens = new OpenSet();
  /** Guarded by this. */
  final DirtySet dirty;
  /** Written under this. */
  final CachedAttributes attributes = new CachedAttributes();
  final LossReport losses = new LossReport();
  /** This client removed the file while opens remain: forget it at the last close. */
  volatile boolean unlinked;

  /** Written under this. */
  volatile int mode;
  /**
   * The delegation this file is cached under (or was last); recalls and revocations of any other are not
   * for it. Written under this.
   */
  volatile long delegationId;
  /** The file's size as this client must see it; meaningful while {@link #mode} is not NONE. Written under this. */
  volatile long size;
  /**
   * Bumped by every drop, truncation and new grant, under this, so a fill or a fresh block that began
   * before it is not published after it.
   */
  volatile long epoch;

  // The hit path's collaborators, held here so a hit makes no hop through the manager.
  private final BlockIndex index;
  private final ReadAheadBudget readAheadBudget;
  private final Counters counters;
  // The read path's.
  private final BlockLoader loader;
  private final Prefetcher prefetcher;
  private final boolean readAheadOn;
  private final int blockShift;

  FileCache(long id, FileHandle handle, CacheManager m) {
    this.id = id;
    this.handle = handle;
    this.dirty = new DirtySet(m.dirtyLimits);
    this.index = m.index;
    this.readAheadBudget = m.readAheadBudget;
    this.counters = m.counters;
    this.loader = m.loader;
    this.prefetcher = m.prefetcher;
    this.readAheadOn = m.config.readAhead();
    this.blockShift = m.blockShift;
  }

  // --- state --------------------------------------------------------------------------------------

  /** Whether the file is neither open nor cached, so the registry may forget it. */
  synchronized boolean unused() {
    return mode == NONE && dirty.isEmpty() && opens.isEmpty();
  }

  synchronized boolean hasDirty() {
    return !dirty.isEmpty();
  }

  /** The open to write dirty blocks back through; null if none. */
  OpenFile writer() {
    return opens.writer(delegationId);
  }

  /**
   * Whether the file is cached under delegation {@code id}. Asked by a recall or revocation after the
   * tracker marked it, under the monitor a grant holds, so the answer can be relied on: if false, no
   * grant of {@code id} will ever be applied to this file.
   */
  synchronized boolean cachesUnder(long id) {
    return delegationId == id;
  }

  /** Under this: cache from now on under delegation {@code id} of {@code type}, from the server's {@code a}. */
  void cacheUnder(long id, int type, FileAttributes a) {
    assert Thread.holdsLock(this);
    size = a.size();
    attributes.set(a);
    delegationId = id;
    mode = type;
  }

  /** Under this: the same delegation granted again; the server never upgrades it. */
  void regranted(int type) {
    assert Thread.holdsLock(this);
    mode = Math.max(mode, type);
  }

  /** Under this: no new cached operation starts. */
  void stopCaching() {
    assert Thread.holdsLock(this);
    mode = NONE;
  }

  /** Under this: what was read or decided before now is not published. */
  void endEpoch() {
    assert Thread.holdsLock(this);
    epoch++;
  }

  /** Under this: the cached size, if the file is cached. */
  void setSize(long newSize) {
    assert Thread.holdsLock(this);
    if (mode != NONE) {
      size = newSize;
    }
  }

  /** Under this: bytes up to {@code end} exist now, written by this client; the size follows. */
  void wroteUpTo(long end) {
    assert Thread.holdsLock(this);
    if (mode != NONE) {
      if (end > size) {
        size = end;
      }
      attributes.modified();
    }
  }

  /** The cached attributes, with the size and modification time this client's writes gave them. */
  FileAttributes cachedAttributes() {
    if (mode == NONE) {
      return null;
    }
    return attributes.view(size);
  }

  // --- reads --------------------------------------------------------------------------------------

  /**
   * The hit path: the block cached for {@code bn}, pinned, or null. No allocation, no lock, no system
   * call: a table lookup, a pin, an identity check, and a word to the policy.
   */
  Block hit(long bn) {
    Object o = table.get(bn);
    if (o instanceof Block b && b.pin()) {
      if (b.holds(this, bn)) {
        if (b.isPrefetched()) {
          readAheadBudget.firstUse(this, b);
        } else {
          index.touch(b);
        }
        counters.hits.increment();
        return b;
      }
      b.unpin();
    }
    return null;
  }

  /**
   * Reads from the cache into {@code dst} at its position (which is not moved). Returns -1 at end of
   * file, else the bytes copied: short (even 0) where the cache could not serve (recalled meanwhile, or
   * no memory to cache a block); the caller reads the rest from the server.
   */
  int read(CachedFile f, long pos, ByteBuffer dst) throws IOException {
    long sz = size;
    if (pos >= sz) {
      return -1;
    }
    int want = (int) Math.min(dst.remaining(), sz - pos);
    int shift = blockShift;
    int bs = 1 << shift;
    int at = dst.position();
    int done = 0;
    while (done < want) {
      long p = pos + done;
      long bn = p >>> shift;
      int off = (int) (p & (bs - 1));
      int len = Math.min(bs - off, want - done);
      Block b = hit(bn);
      if (b == null) {
        if (table.get(bn) == null) {
          f.readAhead().missed(bn); // gone before use; waiting for one still coming is not a miss
        }
        b = loader.load(this, f.open(), bn);
        if (b == null) {
          break;
        }
      }
      try {
        copyOut(b, off, len, dst, at + done);
      } finally {
        b.unpin();
      }
      done += len;
    }
    if (done > 0 && readAheadOn) {
      f.readAhead().after(prefetcher, this, f.open(), pos, done);
    }
    return done;
  }

  int blockShift() {
    return blockShift;
  }

  /** Copies under the block's seqlock: retries if a cached write changed the bytes meanwhile. */
  private static void copyOut(Block b, int off, int len, ByteBuffer dst, int dstIndex) {
    while (true) {
      int v = b.readVersion();
      if ((v & 1) == 0) {
        dst.put(dstIndex, b.memory, off, len);
        if (b.validate(v)) {
          return;
        }
      }
      Thread.onSpinWait();
    }
  }

  @Override
  public String toString() {
    return "FileCache[" + id + ", " + handle + ", mode " + mode + "]";
  }
}
