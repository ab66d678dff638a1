package org.cachedafs.posix;

import java.io.IOException;
import jnr.constants.platform.Errno;

/** A facade call failed: the errno it set, for the java.io-style wrappers. */
public class PosixException extends IOException {
  private final int errno;

  public PosixException(String call, String path, int errno) {
    super(call + (path == null ? "" : " " + path) + ": " + name(errno));
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }

  static String name(int errno) {
    Errno e = Errno.valueOf(errno);
    return e == null ? "errno " + errno : e.name() + " (" + e.description() + ")";
  }
}
