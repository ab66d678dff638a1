package org.cachedafs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.Segment;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.protocol.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the cache knows about one file: its delegation mode, its cached size and attributes, and its
 * blocks.
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
 * on caching under it. A grant of a different delegation drops whatever an earlier one left behind.
 *
 * <p><b>Epochs.</b> {@link #epoch} names what the table may hold now; every drop, truncation and new
 * grant ends one. A fill or a fresh block written into the cache remembers the epoch it began in and is
 * published only if that epoch is still current, under the monitor, so nothing read or decided under
 * an earlier delegation lands under a later one.
 *
 * <p><b>Locks.</b> The monitor guards the dirty set and every publication into or removal from the
 * table, and is never held across a network round trip. {@link #flushLock} serializes write-back with
 * truncation and recall, so a block being flushed is never one truncation dropped; it is held across
 * the write-back's transfers, but only flush, truncate and recall of this same file ever wait on it.
 */
final class FileCache {
  private static final Logger log = LoggerFactory.getLogger(FileCache.class);
  static final int NONE = 0;
  static final int READ = 1;
  static final int WRITE = 2;

  final long id;
  final FileHandle handle;
  private final CacheManager m;
  final BlockTable table = new BlockTable();
  private final ReentrantLock flushLock = new ReentrantLock();
  /** Serializes this client's appends to the file, so that two appenders never pick the same end. */
  final ReentrantLock appendLock = new ReentrantLock();
  /** This client removed the file while opens remain: forget it at the last close. */
  volatile boolean unlinked;

  volatile int mode;
  /**
   * The delegation this file is cached under (or was last); recalls and revocations of any other are not
   * for it. Written only under this monitor.
   */
  volatile long delegationId;
  /** The file's size as this client must see it; meaningful while {@link #mode} is not NONE. */
  volatile long size;
  volatile FileAttributes attributes;
  volatile long localModifyNanos;
  /**
   * Bumped by every drop, truncation and new grant, under this monitor, so a fill or a fresh block that
   * began before it is not published after it.
   */
  volatile long epoch;
  /** Bumped whenever unflushed bytes are lost; each open reports each loss once. */
  volatile long lossSeq;
  volatile String lossMessage;
  /**
   * The last write-back that failed, with its kind. Each open that existed when it failed reports it
   * once, at its next sync or close (Linux's errseq_t for writeback errors).
   */
  volatile WriteBackError writeBackError = new WriteBackError(0, Status.OK, "");

  /** A failed write-back: the {@code seq}-th on this file, its status and what went wrong. */
  record WriteBackError(long seq, Status status, String message) {}

  /** Guarded by this. */
  private final Set<Block> dirty = new LinkedHashSet<>();
  /** Guarded by this. */
  private final List<CachedFile> opens = new ArrayList<>();

  FileCache(long id, FileHandle handle, CacheManager m) {
    this.id = id;
    this.handle = handle;
    this.m = m;
  }

  // --- opens and delegation --------------------------------------------------------------------

  synchronized void addOpen(CachedFile f) {
    opens.add(f);
  }

  /** Removes an open; true if the file is now neither open nor cached (the manager may forget it). */
  synchronized boolean removeOpen(CachedFile f) {
    opens.remove(f);
    return opens.isEmpty() && mode == NONE && dirty.isEmpty();
  }

  synchronized boolean unused() {
    return opens.isEmpty() && mode == NONE && dirty.isEmpty();
  }

  synchronized boolean hasOpens() {
    return !opens.isEmpty();
  }

  /** The file is gone (this client removed it): stop caching and drop everything, nothing to report. */
  void removed() {
    synchronized (this) {
      mode = NONE;
    }
    flushLock.lock();
    try {
      synchronized (this) {
        epoch++;
        table.forEach(this::discard);
        attributes = null;
      }
    } finally {
      flushLock.unlock();
    }
  }

  /**
   * An open for writing, through which dirty blocks are written back; null if none. One granted the
   * delegation the file is cached under comes first: an open from an earlier delegation may have
   * been fenced by its revocation, and every write-back through it would fail.
   */
  synchronized OpenFile writer() {
    OpenFile any = null;
    for (CachedFile f : opens) {
      OpenFile of = f.open();
      if (of.mode().canWrite()) {
        if (of.hasDelegation() && of.delegationId() == delegationId) {
          return of;
        }
        if (any == null) {
          any = of;
        }
      }
    }
    return any;
  }

  synchronized boolean hasDirty() {
    return !dirty.isEmpty();
  }

  /**
   * An open came back with a delegation the tracker holds: cache from now on. {@code stillHeld} is asked
   * under this monitor, and a recall or revocation asks {@link #cachesUnder} under it after the tracker
   * has marked the delegation: so either the recall sees this grant, or this grant sees the recall and
   * caches nothing.
   *
   * <p>A delegation other than the one cached under (or the same one after caching under it stopped)
   * starts afresh: whatever is still in the table came from before it, when another client may have
   * written the file, and goes; dirty bytes among it are reported lost, as for a revocation.
   *
   * <p>Applied under {@link #flushLock} (taken before the monitor, as write-back takes them): a
   * write-back still in flight for an earlier, revoked delegation lands before the table is dropped,
   * so what it carried is neither reported lost nor read back stale by a fill under the new one.
   */
  void granted(OpenFile of, java.util.function.BooleanSupplier stillHeld) {
    flushLock.lock();
    try {
      grantedLocked(of, stillHeld);
    } finally {
      flushLock.unlock();
    }
  }

  private synchronized void grantedLocked(OpenFile of, java.util.function.BooleanSupplier stillHeld) {
    int type = of.hasWriteDelegation() ? WRITE : of.hasDelegation() ? READ : NONE;
    if (type == NONE || !stillHeld.getAsBoolean()) {
      return;
    }
    if (mode == NONE || delegationId != of.delegationId()) {
      // Also ends the epoch: fills begun before this grant must not be published under it.
      dropLocked("they were cached under an earlier delegation, which ended before they were written back");
      // The open's attributes are the server's, and nobody else can change them now.
      size = of.attributes().size();
      attributes = of.attributes();
      delegationId = of.delegationId();
      mode = type;
      return;
    }
    mode = Math.max(mode, type); // the same delegation again: the server never upgrades it
  }

  /**
   * Whether the file is cached under delegation {@code id}. Asked by a recall or revocation after the
   * tracker marked it, under the monitor {@link #granted} holds, so the answer can be relied on: if
   * false, no grant of {@code id} will ever be applied to this file.
   */
  synchronized boolean cachesUnder(long id) {
    return delegationId == id;
  }

  // --- reads -----------------------------------------------------------------------------------

  /**
   * The hit path: the block cached for {@code bn}, pinned, or null. No allocation, no lock, no system
   * call: a table lookup, a pin, an identity check, and a word to the policy.
   */
  Block hit(long bn) {
    Object o = table.get(bn);
    if (o instanceof Block b && b.pin()) {
      if (b.holds(this, bn)) {
        if (b.isPrefetched()) {
          m.firstUseOfReadAhead(this, b);
        } else {
          m.index.touch(b);
        }
        m.counters.hits.increment();
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
    int shift = m.blockShift;
    int bs = m.blockSize;
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
        b = load(f.open(), bn);
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
    if (done > 0 && m.config.readAhead()) {
      f.readAhead().after(this, f.open(), pos, done);
    }
    return done;
  }

  int blockShift() {
    return m.blockShift;
  }

  /**
   * Starts reading blocks {@code first..last} ahead, skipping those cached or coming. Each run of
   * consecutive blocks to read goes out as one scatter read naming each block's own memory (blocks
   * lie anywhere in the slabs), and takes one read-ahead credit. Returns the last block dealt with,
   * below {@code last} if the session's read-ahead credits or the pool ran out, so the caller stops
   * there for now.
   */
  long prefetch(OpenFile of, long first, long last) {
    int maxRun = Math.max(1, Math.min(Limits.MAX_SEGMENTS, Limits.MAX_DIRECT / m.blockSize));
    long bn = first;
    while (bn <= last) {
      if (mode == NONE || bn >= BlockTable.MAX_BLOCK) {
        return last;
      }
      if (table.get(bn) != null) {
        bn++;
        continue;
      }
      int reserved = m.readAheadStart((int) Math.min(maxRun, last - bn + 1));
      if (reserved == 0) {
        return bn - 1;
      }
      List<Fill> fills = new ArrayList<>(reserved);
      List<Block> blocks = new ArrayList<>(reserved);
      boolean dry = false;
      long runStart = bn;
      while (blocks.size() < reserved && bn <= last && bn < BlockTable.MAX_BLOCK) {
        Fill f = new Fill(epoch, true);
        if (!table.compareAndSet(bn, null, f)) {
          break; // cached or coming meanwhile: the run ends here
        }
        Block b = m.allocate(this, bn);
        if (b == null) {
          table.compareAndSet(bn, f, null);
          f.done.complete(null);
          dry = true;
          break;
        }
        fills.add(f);
        blocks.add(b);
        bn++;
      }
      if (blocks.isEmpty()) {
        m.readAheadDone(reserved);
      } else {
        readRun(of, runStart, fills, blocks, reserved);
      }
      if (dry) {
        return bn - 1;
      }
    }
    return last;
  }

  /**
   * One scatter read for blocks {@code runStart, runStart + 1, ...}: each block's fill completes when
   * the request does, as a single block's would, with its share of the bytes.
   */
  private void readRun(OpenFile of, long runStart, List<Fill> fills, List<Block> blocks, int reserved) {
    m.counters.readAheadIssued.add(blocks.size());
    List<Segment> segments = new ArrayList<>(blocks.size());
    for (Block b : blocks) {
      segments.add(new Segment(b.region, b.regionOffset, m.blockSize));
    }
    CompletableFuture<Integer> io;
    try {
      io = m.session.readDirectVAsync(of, runStart << m.blockShift, segments);
    } catch (RuntimeException e) {
      io = CompletableFuture.failedFuture(e);
    }
    io.whenComplete((n, err) -> {
      try {
        for (int i = 0; i < blocks.size(); i++) {
          Fill f = fills.get(i);
          Block b = blocks.get(i);
          long bn = runStart + i;
          Integer got = err != null ? null : (int) Math.max(0, Math.min(m.blockSize, n - (long) i * m.blockSize));
          try {
            completeFill(f, b, bn, got, err);
          } catch (RuntimeException e) {
            table.compareAndSet(bn, f, null);
            b.retire();
            f.done.completeExceptionally(e);
          } finally {
            b.unpin();
          }
        }
      } finally {
        m.readAheadDone(reserved);
      }
    });
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

  /**
   * The miss path: the block for {@code bn}, pinned, read from the server by a direct transfer into
   * the block's own registered memory; concurrent misses of one block share one transfer. Null if the
   * file is no longer cached or no block could be had.
   */
  Block load(OpenFile of, long bn) throws IOException {
    if (bn >= BlockTable.MAX_BLOCK) {
      return null;
    }
    while (true) {
      if (mode == NONE) {
        return null;
      }
      Object o = table.get(bn);
      if (o instanceof Block) {
        Block b = hit(bn);
        if (b != null) {
          return b;
        }
        Thread.onSpinWait();
        continue;
      }
      if (o instanceof Fill f) {
        Block b = await(f.done);
        if (b != null && b.pin()) {
          if (b.holds(this, bn)) {
            if (b.isPrefetched()) {
              m.firstUseOfReadAhead(this, b);
            }
            return b;
          }
          b.unpin();
        }
        if (b == null && table.get(bn) == f) {
          return null; // that fill could not be cached; neither will this one
        }
        continue;
      }
      Fill f = new Fill(epoch, false);
      if (!table.compareAndSet(bn, null, f)) {
        continue;
      }
      m.counters.misses.increment();
      Block b = m.allocate(this, bn);
      if (b == null) {
        table.compareAndSet(bn, f, null);
        f.done.complete(null);
        return null;
      }
      CompletableFuture<Integer> io;
      try {
        io = m.session.readDirectAsync(of, bn << m.blockShift, b.region, b.regionOffset, m.blockSize);
      } catch (RuntimeException e) {
        io = CompletableFuture.failedFuture(e);
      }
      Integer n = null;
      Throwable err = null;
      try {
        n = io.get();
      } catch (ExecutionException e) {
        err = e.getCause();
      } catch (InterruptedException e) {
        // The server is still writing into b's memory: b goes back only when that transfer ends.
        io.whenComplete((done, failed) -> {
          completeFill(f, b, bn, done, failed);
          b.unpin();
        });
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while reading a block");
      }
      completeFill(f, b, bn, n, err);
      if (err != null) {
        b.unpin();
        throw m.ioFailure(this, of, err);
      }
      return b; // still holding the assigner's pin
    }
  }

  /** Publishes a filled block (unless a drop came first); the assigner's pin stays with the caller. */
  private void completeFill(Fill f, Block b, long bn, Integer n, Throwable err) {
    if (err != null) {
      table.compareAndSet(bn, f, null);
      b.retire();
      f.done.completeExceptionally(err);
      return;
    }
    int got = n;
    if (got < m.blockSize) {
      b.memory.put(got, m.zeros, 0, m.blockSize - got); // a hole or the end of the file: reads there see zeros
    }
    b.validBytes = got;
    boolean published;
    synchronized (this) {
      published = epoch == f.epoch && mode != NONE && table.compareAndSet(bn, f, b);
      if (published) {
        if (f.readAhead) {
          m.readAheadParked(b); // out of the policy until first used
        } else {
          m.index.add(b);
        }
      }
    }
    if (!published) {
      table.compareAndSet(bn, f, null);
      b.retire();
    }
    f.done.complete(published ? b : null);
  }

  private static Block await(CompletableFuture<Block> f) throws IOException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      return null; // the loading reader reports the failure; waiters try again or go to the server
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted waiting for a block");
    }
  }

  // --- writes ----------------------------------------------------------------------------------

  /**
   * Writes into the cache, under a WRITE delegation, as far as it can: returns the bytes written
   * (advancing {@code src}); fewer than asked if the delegation went meanwhile or no block could be had.
   * The caller writes the rest through to the server.
   */
  int write(OpenFile of, long pos, ByteBuffer src) throws IOException {
    int total = src.remaining();
    int done = 0;
    int bs = m.blockSize;
    while (done < total) {
      long p = pos + done;
      long bn = p >>> m.blockShift;
      int off = (int) (p & (bs - 1));
      int len = Math.min(bs - off, total - done);
      ByteBuffer piece = src.slice(src.position() + done, len);
      if (!writeBlock(of, bn, off, piece)) {
        break;
      }
      done += len;
    }
    src.position(src.position() + done);
    return done;
  }

  private boolean writeBlock(OpenFile of, long bn, int off, ByteBuffer piece) throws IOException {
    int len = piece.remaining();
    int bs = m.blockSize;
    if (bn >= BlockTable.MAX_BLOCK) {
      return false;
    }
    while (true) {
      // Read before the mode and the size: a fresh block decided on under an earlier epoch (before a
      // recall and a new grant, say, when another client may have extended the file) is not inserted.
      long began = epoch;
      if (mode != WRITE) {
        return false;
      }
      Object slot = table.get(bn);
      if (slot instanceof Fill f) {
        await(f.done); // a read of this block is on its way: write into what it brings
        continue;
      }
      Block b = slot instanceof Block cached && cached.pin() ? cached : null;
      if (b != null && !b.holds(this, bn)) {
        b.unpin();
        b = null;
      }
      boolean fresh = false;
      if (b == null) {
        long start = bn << m.blockShift;
        if ((off == 0 && len == bs) || start >= size) {
          // Nothing of the server's to keep: a fresh block, filled before anyone can see it.
          b = m.allocate(this, bn);
          if (b == null) {
            return false;
          }
          if (len < bs) {
            b.memory.put(0, m.zeros, 0, bs);
          }
          b.memory.put(off, piece, piece.position(), len);
          b.validBytes = off + len;
          fresh = true;
        } else {
          b = load(of, bn); // read-modify-write of a partial block
          if (b == null) {
            return false;
          }
        }
      }
      synchronized (this) {
        if (mode != WRITE || epoch != began) {
          if (fresh) {
            b.retire();
          }
          b.unpin();
          if (mode != WRITE) {
            return false;
          }
          continue; // dropped, truncated or granted anew meanwhile: decide again
        }
        if (fresh) {
          if (!table.compareAndSet(bn, null, b)) {
            b.retire();
            b.unpin();
            continue; // someone cached this block meanwhile: write into theirs
          }
        } else {
          if (!b.dirty) {
            // Out of the policy before the bytes change: from here on it cannot be evicted under us.
            m.index.remove(b);
          }
          if (table.get(bn) != b) {
            b.unpin();
            continue; // evicted or dropped meanwhile: start again
          }
          m.readAheadGone(b);
          b.beginWrite();
          try {
            b.memory.put(off, piece, piece.position(), len);
          } finally {
            b.endWrite();
          }
          b.validBytes = Math.max(b.validBytes, off + len);
        }
        if (!b.dirty) {
          b.dirty = true;
          dirty.add(b);
          m.dirtyBlocks.incrementAndGet();
        }
        b.dirtyFrom = Math.min(b.dirtyFrom, off);
        b.dirtyTo = Math.max(b.dirtyTo, off + len);
        b.dirtyGeneration++;
        long end = (bn << m.blockShift) + off + len;
        if (end > size) {
          size = end;
        }
        localModifyNanos = System.currentTimeMillis() * 1_000_000L;
      }
      b.unpin();
      return true;
    }
  }

  /**
   * Writes every dirty block back, each as a direct transfer out of the block's own memory, through
   * {@code writer}. A block written again during its transfer stays dirty for the next flush. A block
   * whose transfer fails is dropped and the failure recorded in {@link #writeBackError}, not thrown:
   * the opens report it at sync and close, once each, whoever's write-back met it.
   *
   * @return the bytes written back
   * @throws IOException if there is no open to write back through, or the delegation was revoked
   */
  long flush(OpenFile writer) throws IOException {
    flushLock.lock();
    try {
      return flushLocked(writer);
    } finally {
      flushLock.unlock();
    }
  }

  private record Job(Block block, long generation, int from, int to) {}

  private long flushLocked(OpenFile writer) throws IOException {
    List<Job> jobs = new ArrayList<>();
    synchronized (this) {
      for (Block b : dirty) {
        if (b.pin()) {
          jobs.add(new Job(b, b.dirtyGeneration, b.dirtyFrom, b.dirtyTo));
        }
      }
    }
    if (jobs.isEmpty()) {
      return 0;
    }
    if (writer == null) {
      for (Job j : jobs) {
        j.block.unpin();
      }
      throw new DafsException(Status.IO, "dirty blocks but no open for writing to write them back through");
    }
    List<CompletableFuture<Integer>> ios = writeBack(jobs, writer);
    Throwable failure = null;
    boolean[] ok = new boolean[jobs.size()];
    long bytes = 0;
    boolean interrupted = false;
    for (int i = 0; i < jobs.size(); i++) {
      // Every transfer is waited for, interrupt or not: the server reads the blocks' memory until it
      // answers, so no block may be unpinned (and perhaps recycled) before then.
      while (true) {
        try {
          ios.get(i).get();
          ok[i] = true;
          bytes += jobs.get(i).to - jobs.get(i).from;
          break;
        } catch (ExecutionException e) {
          failure = failure == null ? e.getCause() : failure;
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      for (int i = 0; i < jobs.size(); i++) {
        Block b = jobs.get(i).block;
        if (ok[i] && b.dirty && b.dirtyGeneration == jobs.get(i).generation && table.get(b.blockNo) == b) {
          b.dirty = false;
          b.dirtyFrom = Integer.MAX_VALUE;
          b.dirtyTo = 0;
          dirty.remove(b);
          m.dirtyBlocks.decrementAndGet();
          m.index.add(b);
        }
      }
    }
    m.counters.bytesFlushed.add(bytes);
    IOException revoked = null;
    boolean dropped = false;
    if (failure != null) {
      IOException e = m.ioFailure(this, writer, failure);
      if (revocation(failure)) {
        revoked = e; // the revocation dropped the file and reports its dirty bytes as lost
      } else {
        writeBackFailed(jobs, ok, e); // while still pinned: the blocks cannot have changed hands
        dropped = true;
      }
    }
    for (Job j : jobs) {
      j.block.unpin();
    }
    if (revoked != null) {
      throw revoked;
    }
    if (dropped) {
      sizeFromServer();
    }
    return bytes;
  }

  /**
   * After dropped bytes: the cached size may count bytes that never reached the server (an append that
   * failed), so it becomes the server's again, or the end of what is still dirty if that is further.
   * Only this client changes the file under its delegation, and truncation waits on the flush lock
   * this caller holds.
   */
  private void sizeFromServer() {
    if (mode == NONE) {
      return; // not cached (a recall's write-back): no size to correct
    }
    FileAttributes a;
    try {
      a = m.session.getattr(handle);
    } catch (DafsException e) {
      log.warn("could not read the size of {} back after a failed write-back: {}", handle, e.getMessage());
      return;
    }
    synchronized (this) {
      if (mode == NONE) {
        return;
      }
      long end = a.size();
      for (Block b : dirty) {
        end = Math.max(end, (b.blockNo << m.blockShift) + b.dirtyTo);
      }
      size = end;
      attributes = a;
    }
  }

  private static boolean revocation(Throwable t) {
    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    return cause instanceof DafsException d && d.status() == Status.DELEG_REVOKED;
  }

  /**
   * Some transfers of a write-back failed: their blocks are dropped, dirty bytes and all, and the
   * failure is recorded for each open to report at its next sync or close. Kept dirty, they would be
   * read back and written later, after the application was told they failed (as Linux does since
   * 4.13, the error is reported and the pages are not retried); dropped, reads see the server's bytes.
   */
  private void writeBackFailed(List<Job> jobs, boolean[] ok, IOException e) {
    long lost = 0;
    synchronized (this) {
      for (int i = 0; i < jobs.size(); i++) {
        Block b = jobs.get(i).block;
        if (!ok[i] && table.get(b.blockNo) == b) {
          lost += discard(b.blockNo, b);
        }
      }
      Status status = e instanceof DafsException d ? d.status() : Status.IO;
      String detail = e instanceof DafsException d ? d.detail() : String.valueOf(e.getMessage());
      String message = "writing back " + lost + " bytes of " + handle + " failed, and they were dropped: " + detail;
      writeBackError = new WriteBackError(writeBackError.seq() + 1, status, message);
      m.counters.lostBytes.add(lost);
      log.error(message);
    }
  }

  /**
   * Sends the jobs' transfers, one future per job (in the jobs' order, which this sorts by block).
   * Runs of adjacent blocks dirty to their shared edge go as one transfer gathered through a bounce
   * buffer: a sequential writer's blocks would otherwise cost one request and one transfer each, and
   * at 64 KiB that per-transfer cost, not the bytes, set the pace (a cached sequential write ran at
   * half the uncached one's speed). The gathering copy is cheap next to a transfer. With no bounce
   * buffer free, the oldest gathered transfer of this flush is waited for; if there is none (other
   * threads hold them all) the run goes block by block.
   */
  private List<CompletableFuture<Integer>> writeBack(List<Job> jobs, OpenFile writer) {
    jobs.sort(Comparator.comparingLong(j -> j.block.blockNo));
    List<CompletableFuture<Integer>> ios = new ArrayList<>(jobs.size());
    ArrayDeque<CompletableFuture<Integer>> gathered = new ArrayDeque<>();
    int blockSize = 1 << m.blockShift;
    int i = 0;
    while (i < jobs.size()) {
      Job first = jobs.get(i);
      int end = i + 1;
      int bytes = first.to - first.from;
      while (end < jobs.size()) {
        Job prev = jobs.get(end - 1);
        Job next = jobs.get(end);
        if (prev.to != blockSize || next.from != 0 || next.block.blockNo != prev.block.blockNo + 1
            || bytes + next.to > m.bounce.size()) {
          break;
        }
        bytes += next.to;
        end++;
      }
      long fileOffset = (first.block.blockNo << m.blockShift) + first.from;
      CompletableFuture<Integer> io = null;
      if (end - i > 1) {
        List<ByteBuffer> sources = new ArrayList<>(end - i);
        for (int k = i; k < end; k++) {
          Job j = jobs.get(k);
          sources.add(j.block.memory.duplicate().limit(j.to).position(j.from));
        }
        io = m.bounce.gatherWriteAsync(writer, fileOffset, sources);
        while (io == null && !gathered.isEmpty()) {
          gathered.poll().exceptionally(e -> 0).join(); // its failure is reported through its jobs
          io = m.bounce.gatherWriteAsync(writer, fileOffset, sources);
        }
      }
      if (io != null) {
        gathered.add(io);
        m.counters.writeBacks.increment();
        for (int k = i; k < end; k++) {
          ios.add(io);
        }
      } else {
        for (int k = i; k < end; k++) {
          Job j = jobs.get(k);
          long at = (j.block.blockNo << m.blockShift) + j.from;
          try {
            ios.add(m.session.writeDirectAsync(writer, at, j.block.region, j.block.regionOffset + j.from, j.to - j.from));
          } catch (RuntimeException e) {
            ios.add(CompletableFuture.failedFuture(e));
          }
          m.counters.writeBacks.increment();
        }
      }
      i = end;
    }
    return ios;
  }

  // --- recall, revocation, invalidation --------------------------------------------------------

  /**
   * Delegation {@code id} is recalled: stop caching, let cached writers finish, write back, drop
   * everything. Nothing to do if the file is not cached under {@code id} (its grant never took, or a
   * newer one replaced it and dropped what it left).
   */
  void recall(long id) {
    synchronized (this) {
      if (delegationId != id) {
        return;
      }
      // Cached writers hold this monitor and re-check the mode under it: taking it drains them.
      mode = NONE;
    }
    writeBackAndDrop(id);
  }

  /** The cache closes: whatever the file is cached under, write it back and drop it. */
  void recallForClose() {
    long id;
    synchronized (this) {
      id = delegationId;
      mode = NONE;
    }
    writeBackAndDrop(id);
  }

  private void writeBackAndDrop(long id) {
    flushLock.lock();
    try {
      try {
        flushLocked(writer()); // a failed transfer is recorded for the opens to report
      } catch (IOException e) {
        log.warn("write-back on recall of {} failed: {}", handle, e.getMessage());
      }
      drop(id, "the write-back when the delegation was recalled failed");
    } finally {
      flushLock.unlock();
    }
  }

  /**
   * Delegation {@code id} was revoked (or lost with the session): drop everything; unflushed bytes are
   * lost. Nothing to do if the file is not cached under {@code id}.
   */
  void revoked(long id) {
    synchronized (this) {
      if (delegationId != id) {
        return;
      }
      mode = NONE; // and cached writers are drained, as for a recall
    }
    flushLock.lock();
    try {
      drop(id, "the server revoked this client's delegation on the file before its writes were written back");
    } finally {
      flushLock.unlock();
    }
  }

  /**
   * Empties the table of what was cached under delegation {@code id}; if a newer grant came meanwhile
   * (possible after a revocation), that grant already dropped it and the table is the new one's.
   */
  private synchronized void drop(long id, String why) {
    if (delegationId == id) {
      dropLocked(why);
    }
  }

  /**
   * Guarded by this: empties the table and ends the epoch. Dirty blocks still here are lost: counted,
   * logged, and reported once to each open as an I/O error.
   */
  private void dropLocked(String why) {
    long[] lost = new long[1];
    epoch++;
    table.forEach((bn, o) -> lost[0] += discard(bn, o));
    attributes = null;
    if (lost[0] > 0) {
      lossMessage = lost[0] + " bytes written to " + handle + " were lost: " + why;
      lossSeq++;
      m.counters.lostBytes.add(lost[0]);
      log.error(lossMessage);
    }
  }

  /**
   * A write of {@code data} at {@code at} went straight to the server: cached copies of those bytes take
   * the new bytes (a dirty block keeps its other dirty bytes), reads of them in flight are not
   * published, and the cached size and time follow. {@code began} is the {@link #epoch} read before the
   * write was sent: if it has ended since, a clean block cached now may have been read before or after
   * the write reached the server (and around other clients' writes before this client's new grant), so
   * it is dropped rather than patched.
   */
  void wroteThrough(long at, ByteBuffer data, long began) {
    int len = data.remaining();
    if (len == 0) {
      return;
    }
    long to = at + len;
    synchronized (this) {
      for (long bn = at >>> m.blockShift; bn <= (to - 1) >>> m.blockShift; bn++) {
        Object o = table.get(bn);
        if (o instanceof Fill f) {
          table.compareAndSet(bn, f, null); // it may have read the old bytes
        } else if (o instanceof Block b && !b.dirty && epoch != began) {
          discard(bn, b);
        } else if (o instanceof Block b) {
          long blockStart = bn << m.blockShift;
          int from = (int) Math.max(0, at - blockStart);
          int upTo = (int) Math.min(m.blockSize, to - blockStart);
          b.beginWrite();
          try {
            b.memory.put(from, data, (int) (blockStart + from - at), upTo - from);
          } finally {
            b.endWrite();
          }
          b.validBytes = Math.max(b.validBytes, upTo);
          if (b.dirty) {
            // A write-back in flight may carry this block's bytes from before the write and reach the
            // server after it: the block stays dirty, so the next flush sends the new bytes again.
            b.dirtyGeneration++;
          }
        }
      }
      if (mode != NONE) {
        if (to > size) {
          size = to;
        }
        localModifyNanos = System.currentTimeMillis() * 1_000_000L;
      }
    }
  }

  /**
   * Truncates (or extends) to {@code newSize}: cached blocks past it go, the tail of the last one is
   * zeroed, and the server is told. Under a WRITE delegation the cached size changes at once.
   */
  void truncate(OpenFile of, long newSize) throws IOException {
    flushLock.lock();
    try {
      // The server first: if it refuses, the cache is as it was. Write-back waits on the flush lock.
      m.session.setattr(handle, of, SetAttributes.size(newSize));
      synchronized (this) {
        epoch++; // a read in flight may carry bytes from before the truncation
        long keep = (newSize + m.blockSize - 1) >>> m.blockShift; // blocks wholly or partly before newSize
        table.forEach((bn, o) -> {
          if (bn >= keep) {
            discard(bn, o); // past the new end: truncated away, not lost
          }
        });
        int tail = (int) (newSize & (m.blockSize - 1));
        if (tail != 0 && table.get(newSize >>> m.blockShift) instanceof Block b) {
          b.beginWrite();
          try {
            b.memory.put(tail, m.zeros, 0, m.blockSize - tail);
          } finally {
            b.endWrite();
          }
          b.validBytes = Math.min(b.validBytes, tail);
          if (b.dirty) {
            b.dirtyTo = Math.min(b.dirtyTo, tail);
            if (b.dirtyFrom >= b.dirtyTo) {
              b.dirty = false;
              dirty.remove(b);
              m.dirtyBlocks.decrementAndGet();
              m.index.add(b);
            }
          }
        }
        if (mode != NONE) {
          size = newSize;
          localModifyNanos = System.currentTimeMillis() * 1_000_000L;
        }
      }
    } finally {
      flushLock.unlock();
    }
  }

  /** An action that talks to the server. */
  interface ServerCall<T> {
    T call() throws IOException;
  }

  /**
   * Opens with truncation: holds off write-back across the open, so no dirty block lands after the
   * server truncated, and drops the cache only once the open succeeded (a refused open loses nothing).
   */
  <T> T openTruncating(ServerCall<T> open) throws IOException {
    flushLock.lock();
    try {
      T result = open.call();
      truncatedByOpen();
      return result;
    } finally {
      flushLock.unlock();
    }
  }

  /** The server truncated the file as it opened it: what is cached is gone, dirty bytes included. */
  private synchronized void truncatedByOpen() {
    if (mode != NONE) {
      size = 0;
    }
    epoch++;
    table.forEach(this::discard);
  }

  /**
   * Guarded by this: takes whatever {@code o} is out of slot {@code bn} (a fill is then not published; a
   * block leaves the policy and goes back to the pool once unpinned). Returns the dirty bytes it held,
   * which the caller counts as lost or as truncated away.
   */
  private long discard(long bn, Object o) {
    if (!table.compareAndSet(bn, o, null) || !(o instanceof Block b)) {
      return 0;
    }
    m.index.remove(b);
    m.readAheadGone(b);
    long dirtyBytes = 0;
    if (b.dirty) {
      dirtyBytes = b.dirtyTo - b.dirtyFrom;
      b.dirty = false;
      dirty.remove(b);
      m.dirtyBlocks.decrementAndGet();
    }
    b.retire();
    return dirtyBytes;
  }

  /**
   * This client changed the file's attributes on the server: the cached ones follow. Times set
   * explicitly replace those this client's writes gave; a size set explicitly replaces the cached size.
   */
  synchronized void attributesSet(FileAttributes fromServer, SetAttributes change) {
    if (mode == NONE || attributes == null) {
      return;
    }
    attributes = fromServer;
    if (change.has(SetAttributes.MTIME) || change.has(SetAttributes.ATIME)) {
      localModifyNanos = 0;
    }
    if (change.has(SetAttributes.SIZE)) {
      size = fromServer.size();
    }
  }

  /** The cached attributes, with the size and modification time this client's writes gave them. */
  FileAttributes cachedAttributes() {
    FileAttributes a = attributes;
    if (a == null || mode == NONE) {
      return null;
    }
    long mtime = Math.max(a.modifyTimeNanos(), localModifyNanos);
    return new FileAttributes(a.type(), size, a.mode(), a.nlink(), a.uid(), a.gid(), a.accessTimeNanos(), mtime,
        Math.max(a.changeTimeNanos(), localModifyNanos), a.creationTimeNanos(), a.fileId(), Math.max(a.change(), localModifyNanos));
  }

  @Override
  public String toString() {
    return "FileCache[" + id + ", " + handle + ", mode " + mode + "]";
  }
}
