package org.cachedafs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Status;

/**
 * One open file seen through the cache, from {@link CacheManager#open}. Positional reads and writes
 * are served from the cache while the client holds a delegation on the file and knows its lease to be
 * held ({@link org.cachedafs.client.DafsSession#leaseHeld}), and go to the server otherwise, or always
 * if the file was opened uncached (like {@code O_DIRECT}).
 *
 * <p>Errors are {@link DafsException}s: {@code IO} when bytes written earlier were lost because the
 * server revoked the delegation before they were written back (reported once, on the next operation,
 * and logged); the server's own status otherwise. A write-back that failed (say {@code NOSPC}) drops
 * the bytes it carried, and is reported with its status once to each open that existed when it failed,
 * at its next {@link #sync} or {@link #close} (close only for opens that may write), as Linux reports
 * writeback errors. A write that would take the file past the server's largest file size writes up to
 * it and returns the short count, or fails with {@code FBIG} if it starts there. Thread-safe.
 */
public final class CachedFile implements AutoCloseable {
  private final CacheManager m;
  private final FileCache fc;
  private final OpenFile open;
  private final OpenMode mode;
  private final boolean uncached;
  private final ReadAhead readAhead;
  private volatile long seenLoss;
  /** The last {@link LossReport.WriteBackError#seq} this open reported (or was opened after). */
  private final java.util.concurrent.atomic.AtomicLong seenWriteBack;
  private volatile boolean closed;

  CachedFile(CacheManager m, FileCache fc, OpenFile open, OpenMode mode, boolean uncached) {
    this.m = m;
    this.fc = fc;
    this.open = open;
    this.mode = mode;
    this.uncached = uncached;
    this.readAhead = new ReadAhead(m.config.readAhead() ? m.config.maxReadAheadBlocks() : 0);
    this.seenLoss = fc.losses.lossSeq();
    this.seenWriteBack = new java.util.concurrent.atomic.AtomicLong(fc.losses.writeBackError().seq());
  }

  OpenFile open() {
    return open;
  }

  FileCache file() {
    return fc;
  }

  ReadAhead readAhead() {
    return readAhead;
  }

  public FileHandle handle() {
    return open.handle();
  }

  /** Whether reads of this file are being served from the cache now (a delegation is held). */
  public boolean isCached() {
    return !uncached && fc.mode != FileCache.NONE;
  }

  /** Whether writes are kept in the cache now (a WRITE delegation is held). */
  public boolean isWriteBack() {
    return !uncached && fc.mode == FileCache.WRITE;
  }

  /** The read-ahead window now, in blocks (0: off). */
  public int readAheadWindow() {
    return readAhead.window();
  }

  /** The error for a failed server operation; a loss not yet reported to this open is reported instead. */
  private IOException failure(DafsException e) throws DafsException {
    IOException f = m.recalls.ioFailure(fc, open, e);
    check();
    return f;
  }

  private void check() throws DafsException {
    if (closed) {
      throw new DafsException(Status.BAD_STATEID, "the file is closed");
    }
    long loss = fc.losses.lossSeq();
    if (loss != seenLoss) {
      seenLoss = loss;
      throw new DafsException(Status.IO, fc.losses.lossMessage());
    }
  }

  /** A write-back failure this open has not reported yet, or null; from now on it counts as reported. */
  private DafsException unreportedWriteBackFailure() {
    LossReport.WriteBackError w = fc.losses.writeBackError();
    if (seenWriteBack.getAndSet(w.seq()) == w.seq()) {
      return null;
    }
    return new DafsException(w.status(), w.message());
  }

  /**
   * Reads into {@code dst} from {@code position}, advancing {@code dst}: returns the count, or -1 at or
   * past end of file. Like {@code FileChannel.read}, it may read fewer bytes than fit.
   */
  public int read(long position, ByteBuffer dst) throws IOException {
    check();
    if (!mode.canRead()) {
      throw new DafsException(Status.ACCES, "not open for reading");
    }
    if (position < 0) {
      throw new DafsException(Status.INVAL, "negative position " + position);
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (!uncached && fc.mode != FileCache.NONE && m.session.leaseHeld()) {
      int n = fc.read(this, position, dst);
      if (n != 0) {
        if (n > 0) {
          dst.position(dst.position() + n);
        }
        return n;
      }
    }
    if (fc.hasDirty()) {
      m.writeBack.flush(fc, fc.writer()); // this client's own write-back comes first
    }
    try {
      int n = -1;
      if (dst.remaining() >= BounceBuffers.DIRECT_MIN) {
        n = m.bounce.read(open, position, dst);
      }
      if (n < 0) {
        n = m.session.read(open, position, dst);
      }
      return n == 0 ? -1 : n;
    } catch (DafsException e) {
      throw failure(e);
    }
  }

  /**
   * Writes {@code src} at {@code position}, advancing it; returns the count: all of it, unless the
   * file would pass the server's largest file size, when it writes up to it (as write(2) does at
   * {@code RLIMIT_FSIZE}). A write starting at or past that size fails with {@code FBIG}.
   */
  public int write(long position, ByteBuffer src) throws IOException {
    check();
    if (!mode.canWrite()) {
      throw new DafsException(Status.ACCES, "not open for writing");
    }
    if (position < 0 || position > Long.MAX_VALUE - src.remaining()) {
      throw new DafsException(Status.INVAL, "bad position " + position);
    }
    // Here, not at write-back: a cached write past the limit would only fail at close, bytes lost.
    long room = m.maxFileSize - position;
    if (room < src.remaining()) {
      if (room <= 0) {
        throw new DafsException(Status.FBIG, "writing at " + position + ": the server's largest file size is " + m.maxFileSize + " bytes");
      }
      ByteBuffer part = src.slice(src.position(), (int) room);
      int n = writeWithin(position, part);
      src.position(src.position() + n);
      return n;
    }
    return writeWithin(position, src);
  }

  private int writeWithin(long position, ByteBuffer src) throws IOException {
    int total = src.remaining();
    int done = 0;
    if (!uncached && fc.mode == FileCache.WRITE && m.session.leaseHeld()) {
      done = m.writer.write(fc, open, position, src); // held back there if it took the cache past its dirty limits
      if (done == total) {
        return total;
      }
    }
    long at = position + done;
    ByteBuffer data = src.slice();
    if (fc.hasDirty()) {
      if (done > 0 || (!uncached && fc.mode == FileCache.WRITE && m.session.leaseHeld())) {
        m.counters.writerStalls.increment(); // a cached write that found no block waits for write-back
      }
      m.writeBack.flush(fc, open); // older cached writes must not land after this one
    }
    long began = fc.epoch;
    try {
      if (src.remaining() < BounceBuffers.DIRECT_MIN || !m.bounce.write(open, at, src)) {
        m.session.write(open, at, src);
      }
    } catch (DafsException e) {
      throw failure(e);
    }
    m.counters.writeThroughs.increment();
    m.invalidation.wroteThrough(fc, at, data, began);
    return total;
  }

  /**
   * Appends {@code src} at the end of the file, atomically with respect to this client's other
   * appenders (the end and the write are one step). Returns the offset it was written at.
   */
  public long append(ByteBuffer src) throws IOException {
    fc.appendLock.lock();
    try {
      long at = size();
      if (at > m.maxFileSize - src.remaining()) {
        // All or nothing: callers of append take the whole buffer as written.
        throw new DafsException(Status.FBIG, "appending " + src.remaining() + " bytes at " + at + ": the server's largest file size is " + m.maxFileSize + " bytes");
      }
      write(at, src);
      return at;
    } finally {
      fc.appendLock.unlock();
    }
  }

  /** The file's size: this client's own view under a delegation, the server's otherwise. */
  public long size() throws IOException {
    return attributes().size();
  }

  /** The file's attributes: from the cache under a delegation (no server round trip), else from the server. */
  public FileAttributes attributes() throws IOException {
    check();
    FileAttributes a = m.session.leaseHeld() ? fc.cachedAttributes() : null; // this client's view, for uncached opens too
    if (a != null) {
      return a;
    }
    try {
      return m.session.getattr(open.handle());
    } catch (DafsException e) {
      throw failure(e);
    }
  }

  /** Sets the file's size, as ftruncate(2): shorter drops data, longer reads as zeros. */
  public void truncate(long newSize) throws IOException {
    check();
    if (!mode.canWrite()) {
      throw new DafsException(Status.ACCES, "not open for writing");
    }
    if (newSize < 0) {
      throw new DafsException(Status.INVAL, "negative size " + newSize);
    }
    if (newSize > m.maxFileSize) {
      throw new DafsException(Status.FBIG, "size " + newSize + ": the server's largest file size is " + m.maxFileSize + " bytes");
    }
    try {
      m.invalidation.truncate(fc, open, newSize);
    } catch (DafsException e) {
      throw failure(e);
    }
  }

  /**
   * Takes a byte-range lock on the server (a shared lock needs the file open for reading, an exclusive
   * one for writing). Returns false if another session holds a conflicting lock; never waits.
   */
  public boolean tryLock(org.cachedafs.protocol.LockRange range) throws IOException {
    check();
    try {
      m.session.lock(open, range);
      return true;
    } catch (DafsException e) {
      if (e.status() == Status.DENIED) {
        return false;
      }
      throw failure(e);
    }
  }

  public void unlock(org.cachedafs.protocol.LockRange range) throws IOException {
    try {
      m.session.unlock(open, range);
    } catch (DafsException e) {
      throw failure(e);
    }
  }

  /** Writes back everything this client cached for the file, then has the server force it to disk. */
  public void sync() throws IOException {
    sync(false);
  }

  /** {@link #sync()}; with {@code dataOnly} the server may skip metadata, as fdatasync(2). */
  public void sync(boolean dataOnly) throws IOException {
    check();
    DafsException failed = null;
    try {
      m.writeBack.flush(fc, mode.canWrite() ? open : fc.writer());
      m.session.fsync(open.handle(), dataOnly);
    } catch (DafsException e) {
      failed = e;
    }
    DafsException writeBack = unreportedWriteBackFailure();
    if (writeBack != null) {
      if (failed != null) {
        writeBack.addSuppressed(failed);
      }
      throw writeBack;
    }
    if (failed != null) {
      throw failure(failed);
    }
  }

  /**
   * Writes back what this client cached for the file, as {@link #close} does first, without closing
   * it or asking the server to force it to disk: close(2)'s part, for a door whose descriptors close
   * one by one while the open lives on (a FUSE flush). A write-back failure this open has not reported
   * yet is thrown, once. Nothing to do for an open that may not write.
   */
  public void flush() throws IOException {
    check();
    if (mode.canWrite()) {
      m.writeBack.flush(fc, open);
      DafsException failure = unreportedWriteBackFailure();
      if (failure != null) {
        throw failure;
      }
    }
  }

  /**
   * Writes back what is dirty, then closes the open on the server. A write-back failure (this close's
   * or an earlier one this open has not reported) is thrown after the file is closed, as close(2) on
   * NFS reports it. The delegation, and the clean cached blocks, outlive the
   * close until the server recalls it.
   */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    IOException failure = null;
    try {
      flush();
    } catch (IOException e) {
      failure = e;
    }
    closed = true;
    // The server must not forget this open while a write-back is sending through it (another open's
    // dirty blocks may be going out through this one): wait for any under the flush lock, which every
    // write-back holds across its transfers, and leave the open set under it, so none picks it later.
    fc.flushLock.lock();
    try {
      fc.opens.remove(this);
    } finally {
      fc.flushLock.unlock();
    }
    try {
      m.session.close(open);
    } catch (DafsException e) {
      if (failure == null && e.status() != Status.BAD_STATEID) {
        failure = e;
      }
    } finally {
      m.closed(this, fc);
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public String toString() {
    return "CachedFile[" + open.handle() + (uncached ? ", uncached" : ", mode " + fc.mode) + (closed ? ", closed" : "") + "]";
  }
}
