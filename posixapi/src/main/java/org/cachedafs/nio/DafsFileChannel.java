package org.cachedafs.nio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.FileLockInterruptionException;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.cachedafs.cache.CachedFile;
import org.cachedafs.protocol.FileHandle;

/**
 * A {@link FileChannel} on a DAFS file, through the cache. A directory opened for reading gives a
 * channel whose reads fail and whose {@link #force} makes the directory durable, as Lucene expects.
 * {@link #map} is not supported: a mapping would bypass the cache's delegation-based consistency.
 * Locks are the server's byte-range locks, so they exclude other clients as well as other channels.
 */
final class DafsFileChannel extends FileChannel {
  private final DafsFileSystem fs;
  private final DafsPath path;
  private final FileHandle handle;
  private final CachedFile file; // null for a directory
  private final boolean readable;
  private final boolean writable;
  private final boolean append;
  private final boolean sync;
  private final boolean deleteOnClose;
  /** Guarded by this. */
  private long position;

  DafsFileChannel(DafsFileSystem fs, DafsPath path, FileHandle handle, CachedFile file, boolean readable, boolean writable,
      boolean append, boolean sync, boolean deleteOnClose) {
    this.fs = fs;
    this.path = path;
    this.handle = handle;
    this.file = file;
    this.readable = readable;
    this.writable = writable;
    this.append = append;
    this.sync = sync;
    this.deleteOnClose = deleteOnClose;
    fs.opened(this);
  }

  private CachedFile file() throws IOException {
    if (file == null) {
      throw new IOException("Is a directory: " + path);
    }
    return file;
  }

  private void checkReadable() throws IOException {
    ensureOpen();
    if (!readable) {
      throw new NonReadableChannelException();
    }
  }

  private void checkWritable() throws IOException {
    ensureOpen();
    if (!writable) {
      throw new NonWritableChannelException();
    }
  }

  private void ensureOpen() throws IOException {
    if (!isOpen()) {
      throw new java.nio.channels.ClosedChannelException();
    }
    // A channel of a file system whose session died serves nothing, not even bytes still in the
    // cache: without the session its delegations are gone, so they may be stale.
    org.cachedafs.client.DafsException lost = fs.lost();
    if (lost != null) {
      throw new IOException(fs.lostMessage(lost), lost);
    }
  }

  @Override
  public synchronized int read(ByteBuffer dst) throws IOException {
    checkReadable();
    int n = readAt(dst, position);
    if (n > 0) {
      position += n;
    }
    return n;
  }

  @Override
  public synchronized long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    checkReadable();
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      if (!dsts[i].hasRemaining()) {
        continue;
      }
      int n = readAt(dsts[i], position);
      if (n < 0) {
        return total == 0 ? -1 : total;
      }
      position += n;
      total += n;
      if (dsts[i].hasRemaining()) {
        break;
      }
    }
    return total;
  }

  @Override
  public int read(ByteBuffer dst, long at) throws IOException {
    if (at < 0) {
      throw new IllegalArgumentException("negative position");
    }
    checkReadable();
    return readAt(dst, at);
  }

  private int readAt(ByteBuffer dst, long at) throws IOException {
    if (!dst.hasRemaining()) {
      return 0;
    }
    try {
      return file().read(at, dst);
    } catch (IOException e) {
      throw NioErrors.of(e, path);
    }
  }

  @Override
  public synchronized int write(ByteBuffer src) throws IOException {
    checkWritable();
    if (append) {
      int n = src.remaining();
      try {
        position = file().append(src) + n; // the end and the write in one step
        if (sync) {
          file().sync(false);
        }
      } catch (IOException e) {
        throw NioErrors.of(e, path);
      }
      return n;
    }
    int n = writeAt(src, position);
    position += n;
    return n;
  }

  @Override
  public synchronized long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    long total = 0;
    for (int i = offset; i < offset + length; i++) {
      total += write(srcs[i]);
    }
    return total;
  }

  @Override
  public int write(ByteBuffer src, long at) throws IOException {
    if (at < 0) {
      throw new IllegalArgumentException("negative position");
    }
    checkWritable();
    return writeAt(src, at);
  }

  private int writeAt(ByteBuffer src, long at) throws IOException {
    try {
      int n = file().write(at, src);
      if (sync) {
        file().sync(false);
      }
      return n;
    } catch (IOException e) {
      throw NioErrors.of(e, path);
    }
  }

  @Override
  public synchronized long position() throws IOException {
    ensureOpen();
    return append ? size() : position;
  }

  @Override
  public synchronized FileChannel position(long newPosition) throws IOException {
    ensureOpen();
    if (newPosition < 0) {
      throw new IllegalArgumentException("negative position");
    }
    position = newPosition;
    return this;
  }

  @Override
  public long size() throws IOException {
    ensureOpen();
    try {
      return file == null ? fs.session.getattr(handle).size() : file.size();
    } catch (IOException e) {
      throw NioErrors.of(e, path);
    }
  }

  @Override
  public synchronized FileChannel truncate(long size) throws IOException {
    if (size < 0) {
      throw new IllegalArgumentException("negative size");
    }
    checkWritable();
    if (size < size()) {
      try {
        file().truncate(size);
      } catch (IOException e) {
        throw NioErrors.of(e, path);
      }
    }
    if (position > size) {
      position = size;
    }
    return this;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    ensureOpen();
    try {
      if (file == null) {
        fs.session.fsync(handle, !metaData);
      } else {
        file.sync(!metaData);
      }
    } catch (IOException e) {
      throw NioErrors.of(e, path);
    }
  }

  @Override
  public long transferTo(long at, long count, WritableByteChannel target) throws IOException {
    if (at < 0 || count < 0) {
      throw new IllegalArgumentException("negative position or count");
    }
    checkReadable();
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(count, 64 * 1024));
    long done = 0;
    while (done < count) {
      buf.clear().limit((int) Math.min(buf.capacity(), count - done));
      int n = readAt(buf, at + done);
      if (n <= 0) {
        break;
      }
      buf.flip();
      while (buf.hasRemaining()) {
        if (target.write(buf) == 0) {
          return done + (n - buf.remaining()); // a non-blocking target is full: report what it took
        }
      }
      done += n;
    }
    return done;
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long at, long count) throws IOException {
    if (at < 0 || count < 0) {
      throw new IllegalArgumentException("negative position or count");
    }
    checkWritable();
    if (at > size()) {
      return 0;
    }
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(count, 64 * 1024));
    long done = 0;
    while (done < count) {
      buf.clear().limit((int) Math.min(buf.capacity(), count - done));
      int n = src.read(buf);
      if (n <= 0) {
        break;
      }
      buf.flip();
      while (buf.hasRemaining()) {
        done += writeAt(buf, at + done);
      }
    }
    return done;
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long at, long size) {
    throw new UnsupportedOperationException("FileChannel.map is not supported on dafs paths: a mapping would bypass the "
        + "cache's delegation-based consistency; use read and write (for Lucene, construct NIOFSDirectory, not MMapDirectory)");
  }

  @Override
  public FileLock lock(long at, long size, boolean shared) throws IOException {
    long backoff = 5;
    while (true) {
      FileLock l = tryLock(at, size, shared);
      if (l != null) {
        return l;
      }
      try {
        Thread.sleep(backoff); // the server's locks do not queue waiters: poll, backing off
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FileLockInterruptionException();
      }
      backoff = Math.min(200, backoff * 2);
    }
  }

  @Override
  public FileLock tryLock(long at, long size, boolean shared) throws IOException {
    if (at < 0 || size < 0) {
      throw new IllegalArgumentException("negative lock range");
    }
    ensureOpen();
    if (shared && !readable) {
      throw new NonReadableChannelException();
    }
    if (!shared && !writable) {
      throw new NonWritableChannelException();
    }
    DafsFileLock lock = new DafsFileLock(this, at, size, shared);
    List<DafsFileLock> held = fs.locks.computeIfAbsent(handle, h -> new ArrayList<>());
    synchronized (held) {
      for (DafsFileLock other : held) {
        if (other.isValid() && other.overlaps(at, size)) {
          throw new OverlappingFileLockException();
        }
      }
      try {
        if (!file().tryLock(lock.range())) {
          return null;
        }
      } catch (IOException e) {
        throw NioErrors.of(e, path);
      }
      held.add(lock);
    }
    return lock;
  }

  void release(DafsFileLock lock) throws IOException {
    List<DafsFileLock> held = fs.locks.get(handle);
    if (held != null) {
      synchronized (held) {
        held.remove(lock);
      }
    }
    lock.invalidate();
    if (isOpen() && file != null) {
      try {
        file.unlock(lock.range());
      } catch (IOException e) {
        throw NioErrors.of(e, path);
      }
    }
  }

  @Override
  protected void implCloseChannel() throws IOException {
    List<DafsFileLock> held = fs.locks.get(handle);
    List<DafsFileLock> mine = new ArrayList<>();
    if (held != null) {
      synchronized (held) {
        held.removeIf(l -> l.channel() == this && mine.add(l) && invalidated(l));
      }
    }
    for (DafsFileLock l : mine) {
      try {
        if (file != null) {
          // The server keeps a session's locks while it has the file open anywhere: release them here.
          file.unlock(l.range());
        }
      } catch (IOException ignored) {
        // The open is closing anyway.
      }
    }
    fs.closed(this);
    try {
      if (file != null) {
        file.close(); // the server drops this open's locks with it
      }
    } catch (IOException e) {
      throw NioErrors.of(e, path);
    } finally {
      if (deleteOnClose) {
        fs.deleteIfExists(path);
      }
    }
  }

  private static boolean invalidated(DafsFileLock l) {
    l.invalidate();
    return true;
  }
}
