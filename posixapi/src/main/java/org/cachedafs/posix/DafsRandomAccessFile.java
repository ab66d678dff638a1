package org.cachedafs.posix;

import java.io.Closeable;
import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import jnr.constants.platform.Errno;

/**
 * {@link java.io.RandomAccessFile}'s methods over the facade, for code written against java.io: the
 * same modes ("r", "rw", "rws", "rwd"), the same file pointer, the same exceptions (a missing file is a
 * {@link FileNotFoundException}). Works for DAFS paths and operating-system paths alike.
 */
public final class DafsRandomAccessFile implements Closeable {
  private final DafsPosix posix;
  private final String path;
  private final int fd;
  private final boolean syncEveryWrite;
  private long pointer;
  private boolean closed;

  public DafsRandomAccessFile(DafsPosix posix, String path, String mode) throws IOException {
    this.posix = posix;
    this.path = path;
    int flags = switch (mode) {
      case "r" -> DafsPosix.O_RDONLY;
      case "rw", "rws", "rwd" -> DafsPosix.O_RDWR | DafsPosix.O_CREAT;
      default -> throw new IllegalArgumentException("mode must be r, rw, rws or rwd, not " + mode);
    };
    this.syncEveryWrite = mode.equals("rws") || mode.equals("rwd");
    int f = posix.open(path, flags, 0644);
    if (f < 0) {
      int e = posix.errno();
      if (e == Errno.ENOENT.intValue() || e == Errno.EACCES.intValue() || e == Errno.EISDIR.intValue()) {
        throw new FileNotFoundException(path + " (" + PosixException.name(e) + ")");
      }
      throw new PosixException("open", path, e);
    }
    Stat st = posix.fstat(f);
    if (st != null && st.isDirectory()) {
      posix.close(f);
      throw new FileNotFoundException(path + " (Is a directory)"); // as RandomAccessFile
    }
    this.fd = f;
  }

  private IOException failure(String call) {
    return new PosixException(call, path, posix.errno());
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("Stream Closed");
    }
  }

  /** The facade descriptor behind this file. */
  public int descriptor() {
    return fd;
  }

  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) <= 0 ? -1 : one[0] & 0xff;
  }

  public int read(byte[] b) throws IOException {
    return read(b, 0, b.length);
  }

  /** As RandomAccessFile: -1 at end of file, else the count (at least 1 when len > 0). */
  public int read(byte[] b, int off, int len) throws IOException {
    ensureOpen();
    if (len == 0) {
      return 0;
    }
    long n = posix.pread(fd, b, off, len, pointer);
    if (n < 0) {
      throw failure("read");
    }
    if (n == 0) {
      return -1;
    }
    pointer += n;
    return (int) n;
  }

  public void readFully(byte[] b) throws IOException {
    readFully(b, 0, b.length);
  }

  public void readFully(byte[] b, int off, int len) throws IOException {
    int done = 0;
    while (done < len) {
      int n = read(b, off + done, len - done);
      if (n < 0) {
        throw new EOFException();
      }
      done += n;
    }
  }

  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  public void write(byte[] b) throws IOException {
    write(b, 0, b.length);
  }

  public void write(byte[] b, int off, int len) throws IOException {
    ensureOpen();
    // A short count (the file reached the server's largest size) is not the end: the next write fails.
    for (int done = 0; done < len; ) {
      long n = posix.pwrite(fd, b, off + done, len - done, pointer);
      if (n < 0) {
        throw failure("write");
      }
      pointer += n;
      done += (int) n;
    }
    if (syncEveryWrite && posix.fsync(fd) < 0) {
      throw failure("fsync");
    }
  }

  public void seek(long pos) throws IOException {
    ensureOpen();
    if (pos < 0) {
      throw new IOException("Negative seek offset");
    }
    pointer = pos;
  }

  public long getFilePointer() throws IOException {
    ensureOpen();
    return pointer;
  }

  public long length() throws IOException {
    ensureOpen();
    Stat st = posix.fstat(fd);
    if (st == null) {
      throw failure("fstat");
    }
    return st.size();
  }

  public void setLength(long newLength) throws IOException {
    ensureOpen();
    if (posix.ftruncate(fd, newLength) < 0) {
      throw failure("ftruncate");
    }
    if (pointer > newLength) {
      pointer = newLength;
    }
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      if (posix.close(fd) < 0) {
        throw failure("close");
      }
    }
  }
}
