package org.cachedafs.fuse;

import java.io.IOException;
import jnr.constants.platform.Errno;
import org.cachedafs.client.DafsException;
import org.cachedafs.posix.Errnos;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a FUSE callback returns for a failure: minus the errno, chosen by name through jnr-constants
 * (never a number written here), from the same table the POSIX facade uses ({@link Errnos}), so that
 * a name too long, a path that leaves the export through a symlink or a share conflict gives the
 * errno the server's status means at every door.
 */
final class Errors {
  private static final Logger log = LoggerFactory.getLogger(Errors.class);

  private Errors() {}

  static int negative(Errno e) {
    return -e.intValue();
  }

  /** Minus the errno for {@code e}; a failure that is no status of the server's is logged, and EIO. */
  static int of(Throwable e, String operation, String path) {
    if (e instanceof DafsException d) {
      log.debug("{} {}: {}", operation, path, d.getMessage());
      return -Errnos.of(d.status());
    }
    if (e instanceof IOException) {
      log.warn("{} {}: {}", operation, path, e.toString());
    } else {
      log.error("{} {} failed", operation, path, e);
    }
    return negative(Errno.EIO);
  }
}
