package org.cachedafs.posix;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import jnr.constants.platform.Errno;

/** An {@link InputStream} reading a file through the facade, like {@link java.io.FileInputStream}. */
public final class DafsInputStream extends InputStream {
  private final DafsPosix posix;
  private final String path;
  private final int fd;
  private boolean closed;

  public DafsInputStream(DafsPosix posix, String path) throws IOException {
    this.posix = posix;
    this.path = path;
    int f = posix.open(path, DafsPosix.O_RDONLY);
    if (f < 0) {
      int e = posix.errno();
      if (e == Errno.ENOENT.intValue() || e == Errno.EISDIR.intValue() || e == Errno.EACCES.intValue()) {
        throw new FileNotFoundException(path + " (" + PosixException.name(e) + ")");
      }
      throw new PosixException("open", path, e);
    }
    Stat st = posix.fstat(f);
    if (st != null && st.isDirectory()) {
      posix.close(f);
      throw new FileNotFoundException(path + " (Is a directory)"); // as FileInputStream
    }
    this.fd = f;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) <= 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      throw new IOException("Stream Closed");
    }
    if (len == 0) {
      return 0;
    }
    long n = posix.read(fd, b, off, len);
    if (n < 0) {
      throw new PosixException("read", path, posix.errno());
    }
    return n == 0 ? -1 : (int) n;
  }

  @Override
  public long skip(long n) throws IOException {
    if (n <= 0) {
      return 0;
    }
    long here = posix.lseek(fd, 0, DafsPosix.SEEK_CUR);
    Stat st = posix.fstat(fd);
    if (here < 0 || st == null) {
      throw new PosixException("skip", path, posix.errno());
    }
    long to = Math.min(st.size(), here + n);
    posix.lseek(fd, to, DafsPosix.SEEK_SET);
    return Math.max(0, to - here);
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      if (posix.close(fd) < 0) {
        throw new PosixException("close", path, posix.errno());
      }
    }
  }
}
