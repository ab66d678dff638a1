package org.cachedafs.posix;

import java.io.IOException;
import jnr.constants.platform.Errno;
import org.cachedafs.client.DafsException;

/**
 * A call of a backend failed with this errno. Carries no stack trace: it is the facade's error path,
 * which ends in an errno and -1, never in a log, and a failing call in a loop must stay cheap.
 */
final class ErrnoException extends Exception {
  private final int errno;

  ErrnoException(int errno) {
    super(null, null, false, false);
    this.errno = errno;
  }

  ErrnoException(Errno e) {
    this(e.intValue());
  }

  /** A DAFS status as the platform's errno; anything else (a lost connection, lost data) is EIO. */
  static ErrnoException of(IOException e) {
    return new ErrnoException(e instanceof DafsException d ? Errnos.of(d.status()) : Errno.EIO.intValue());
  }

  int errno() {
    return errno;
  }
}
