package org.cachedafs.posix;

import jnr.constants.platform.Errno;
import org.cachedafs.protocol.Status;

/**
 * The platform's errno for each protocol status, from jnr-constants: the one table the facade and the
 * FUSE mount ({@code org.cachedafs.fuse}) both answer with, so a status means the same errno at each door.
 */
public final class Errnos {
  private Errnos() {}

  /** The errno for {@code s}; 0 for {@code OK}, EIO for a status with no errno of its own. */
  public static int of(Status s) {
    Errno e = switch (s) {
      case OK -> null;
      case PERM -> Errno.EPERM;
      case NOENT -> Errno.ENOENT;
      case ACCES, SHARE_DENIED -> Errno.EACCES;
      case EXIST -> Errno.EEXIST;
      case XDEV -> Errno.EXDEV;
      case NOTDIR -> Errno.ENOTDIR;
      case ISDIR -> Errno.EISDIR;
      case INVAL, BAD_RANGE, BAD_COOKIE -> Errno.EINVAL;
      case FBIG -> Errno.EFBIG;
      case NOSPC -> Errno.ENOSPC;
      case ROFS -> Errno.EROFS;
      case MLINK -> Errno.EMLINK;
      case DQUOT -> Errno.EDQUOT;
      case RESOURCE -> Errno.EMFILE;
      case NAMETOOLONG -> Errno.ENAMETOOLONG;
      case NOTEMPTY -> Errno.ENOTEMPTY;
      case STALE, BADHANDLE -> Errno.ESTALE;
      case BAD_STATEID -> Errno.EBADF;
      case DENIED, LOCKED, DELAY -> Errno.EAGAIN;
      case TIMEDOUT -> Errno.ETIMEDOUT;
      case NOTSUPP -> Errno.EOPNOTSUPP;
      default -> Errno.EIO;
    };
    return e == null ? 0 : e.intValue();
  }

  static int value(Errno e) {
    return e.intValue();
  }
}
