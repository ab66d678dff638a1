package org.cachedafs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.SetAttributes;
import org.slf4j.Logger;

/**
 * Everything that takes cached bytes away or changes them behind the cache's back: drops (recall,
 * revocation, a new grant, removal), truncation, a truncating open, and writes that went straight to
 * the server. Each ends the file's epoch where what was read before must not be published after.
 * Dirty bytes dropped before they were written back are lost, and never silently: counted, logged,
 * and reported to each open ({@link LossReport}).
 *
 * <p>Locking: no state of its own. Table changes happen under the file's monitor; the ones that must
 * not race with a write-back of the same file (truncation, a truncating open, removal) also hold its
 * flush lock, taken first.
 */
final class Invalidation {
  private static final Logger log = Loggers.get(Invalidation.class);

  private final DafsSession session;
  private final BlockIndex index;
  private final ReadAheadBudget readAhead;
  private final Counters counters;
  private final int blockSize;
  private final int blockShift;
  private final ByteBuffer zeros;

  Invalidation(DafsSession session, BlockIndex index, ReadAheadBudget readAhead, Counters counters, int blockSize, ByteBuffer zeros) {
    this.session = session;
    this.index = index;
    this.readAhead = readAhead;
    this.counters = counters;
    this.blockSize = blockSize;
    this.blockShift = Integer.numberOfTrailingZeros(blockSize);
    this.zeros = zeros;
  }

  /**
   * Under the file's monitor: takes whatever {@code o} is out of slot {@code bn} (a fill is then not
   * published; a block leaves the policy and goes back to the pool once unpinned). Returns the dirty
   * bytes it held, which the caller counts as lost or as truncated away.
   */
  long discard(FileCache fc, long bn, Object o) {
    if (!fc.table.compareAndSet(bn, o, null) || !(o instanceof Block b)) {
      return 0;
    }
    index.remove(b);
    readAhead.gone(b);
    long dirtyBytes = fc.dirty.discard(b);
    b.retire();
    return dirtyBytes;
  }

  /**
   * Under the file's monitor: empties the table and ends the epoch. Dirty blocks still there are lost:
   * counted, logged, and reported once to each open as an I/O error.
   */
  void dropLocked(FileCache fc, String why) {
    long[] lost = new long[1];
    fc.endEpoch();
    fc.table.forEach((bn, o) -> lost[0] += discard(fc, bn, o));
    fc.attributes.clear();
    if (lost[0] > 0) {
      String message = lost[0] + " bytes written to " + fc.handle + " were lost: " + why;
      fc.losses.lost(message);
      counters.lostBytes.add(lost[0]);
      log.error(message);
    }
  }

  /**
   * Empties the table of what was cached under delegation {@code id}; if a newer grant came meanwhile
   * (possible after a revocation), that grant already dropped it and the table is the new one's.
   */
  void drop(FileCache fc, long id, String why) {
    synchronized (fc) {
      if (fc.delegationId == id) {
        dropLocked(fc, why);
      }
    }
  }

  /** The file is gone (this client removed it): stop caching and drop everything, nothing to report. */
  void removed(FileCache fc) {
    synchronized (fc) {
      fc.stopCaching();
    }
    fc.flushLock.lock();
    try {
      synchronized (fc) {
        fc.endEpoch();
        fc.table.forEach((bn, o) -> discard(fc, bn, o));
        fc.attributes.clear();
      }
    } finally {
      fc.flushLock.unlock();
    }
  }

  /**
   * A write of {@code data} at {@code at} went straight to the server: cached copies of those bytes take
   * the new bytes (a dirty block keeps its other dirty bytes), reads of them in flight are not
   * published, and the cached size and time follow. {@code began} is the file's epoch read before the
   * write was sent: if it has ended since, a clean block cached now may have been read before or after
   * the write reached the server (and around other clients' writes before this client's new grant), so
   * it is dropped rather than patched.
   */
  void wroteThrough(FileCache fc, long at, ByteBuffer data, long began) {
    int len = data.remaining();
    if (len == 0) {
      return;
    }
    long to = at + len;
    synchronized (fc) {
      for (long bn = at >>> blockShift; bn <= (to - 1) >>> blockShift; bn++) {
        Object o = fc.table.get(bn);
        if (o instanceof Fill f) {
          fc.table.compareAndSet(bn, f, null); // it may have read the old bytes
        } else if (o instanceof Block b && !b.dirty && fc.epoch != began) {
          discard(fc, bn, b);
        } else if (o instanceof Block b) {
          long blockStart = bn << blockShift;
          int from = (int) Math.max(0, at - blockStart);
          int upTo = (int) Math.min(blockSize, to - blockStart);
          b.beginWrite();
          try {
            b.memory.put(from, data, (int) (blockStart + from - at), upTo - from);
          } finally {
            b.endWrite();
          }
          b.validBytes = Math.max(b.validBytes, upTo);
          if (b.dirty) {
            fc.dirty.rewritten(b);
          }
        }
      }
      fc.wroteUpTo(to);
    }
  }

  /**
   * Truncates (or extends) to {@code newSize}: cached blocks past it go, the tail of the last one is
   * zeroed, and the server is told. Under a WRITE delegation the cached size changes at once.
   */
  void truncate(FileCache fc, OpenFile of, long newSize) throws IOException {
    fc.flushLock.lock();
    try {
      // The server first: if it refuses, the cache is as it was. Write-back waits on the flush lock.
      session.setattr(fc.handle, of, SetAttributes.size(newSize));
      synchronized (fc) {
        fc.endEpoch(); // a read in flight may carry bytes from before the truncation
        long keep = (newSize + blockSize - 1) >>> blockShift; // blocks wholly or partly before newSize
        fc.table.forEach((bn, o) -> {
          if (bn >= keep) {
            discard(fc, bn, o); // past the new end: truncated away, not lost
          }
        });
        int tail = (int) (newSize & (blockSize - 1));
        if (tail != 0 && fc.table.get(newSize >>> blockShift) instanceof Block b) {
          b.beginWrite();
          try {
            b.memory.put(tail, zeros, 0, blockSize - tail);
          } finally {
            b.endWrite();
          }
          b.validBytes = Math.min(b.validBytes, tail);
          if (fc.dirty.truncate(b, tail)) {
            index.add(b);
          }
        }
        if (fc.mode != FileCache.NONE) {
          fc.setSize(newSize);
          fc.attributes.modified();
        }
      }
    } finally {
      fc.flushLock.unlock();
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
  <T> T openTruncating(FileCache fc, ServerCall<T> open) throws IOException {
    fc.flushLock.lock();
    try {
      T result = open.call();
      synchronized (fc) {
        // The server truncated the file: what is cached is gone, dirty bytes included.
        fc.setSize(0);
        fc.endEpoch();
        fc.table.forEach((bn, o) -> discard(fc, bn, o));
      }
      return result;
    } finally {
      fc.flushLock.unlock();
    }
  }

  /**
   * This client changed the file's attributes on the server: the cached ones follow. Times set
   * explicitly replace those this client's writes gave; a size set explicitly replaces the cached size.
   */
  void attributesSet(FileCache fc, org.cachedafs.protocol.FileAttributes fromServer, SetAttributes change) {
    synchronized (fc) {
      if (fc.mode == FileCache.NONE || fc.attributes.isEmpty()) {
        return;
      }
      fc.attributes.setOnServer(fromServer, change);
      if (change.has(SetAttributes.SIZE)) {
        fc.setSize(fromServer.size());
      }
    }
  }
}
