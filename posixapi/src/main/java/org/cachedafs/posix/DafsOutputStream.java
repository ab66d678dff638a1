package org.cachedafs.posix;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An {@link OutputStream} writing a file through the facade, like {@link java.io.FileOutputStream}:
 * created if missing, truncated unless appending. {@link #close} writes back what the cache holds.
 */
public final class DafsOutputStream extends OutputStream {
  private final DafsPosix posix;
  private final String path;
  private final int fd;
  private boolean closed;

  public DafsOutputStream(DafsPosix posix, String path, boolean append) throws IOException {
    this.posix = posix;
    this.path = path;
    int flags = DafsPosix.O_WRONLY | DafsPosix.O_CREAT | (append ? DafsPosix.O_APPEND : DafsPosix.O_TRUNC);
    int f = posix.open(path, flags, 0644);
    if (f < 0) {
      int e = posix.errno();
      if (e == jnr.constants.platform.Errno.ENOENT.intValue() || e == jnr.constants.platform.Errno.EACCES.intValue()
          || e == jnr.constants.platform.Errno.EISDIR.intValue()) {
        throw new java.io.FileNotFoundException(path + " (" + PosixException.name(e) + ")"); // as FileOutputStream
      }
      throw new PosixException("open", path, e);
    }
    this.fd = f;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      throw new IOException("Stream Closed");
    }
    int done = 0;
    while (done < len) {
      long n = posix.write(fd, b, off + done, len - done);
      if (n < 0) {
        throw new PosixException("write", path, posix.errno());
      }
      done += (int) n;
    }
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
