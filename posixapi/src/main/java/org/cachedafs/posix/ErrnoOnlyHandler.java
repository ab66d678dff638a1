package org.cachedafs.posix;

import jnr.constants.platform.Errno;
import jnr.posix.util.DefaultPOSIXHandler;

/**
 * JNR-POSIX reports some failures (mkdir, rmdir, chmod, ...) by calling its handler, whose default
 * throws. The facade reports every failure as -1 and errno instead, so its handler only returns.
 */
final class ErrnoOnlyHandler extends DefaultPOSIXHandler {
  @Override
  public void error(Errno error, String extraData) {
    // Left to errno.
  }

  @Override
  public void error(Errno error, String methodName, String extraData) {
    // Left to errno.
  }
}
