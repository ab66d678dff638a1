package org.cachedafs.posix;

import static org.cachedafs.posix.DafsPosix.O_ACCMODE;
import static org.cachedafs.posix.DafsPosix.O_CREAT;
import static org.cachedafs.posix.DafsPosix.O_EXCL;
import static org.cachedafs.posix.DafsPosix.O_RDONLY;
import static org.cachedafs.posix.DafsPosix.O_RDWR;
import static org.cachedafs.posix.DafsPosix.O_TRUNC;
import static org.cachedafs.posix.DafsPosix.O_WRONLY;

import org.cachedafs.client.OpenMode;

/** open(2)'s flags ({@link DafsPosix}'s {@code O_*}) as the cache's {@link OpenMode}, for the facade and the FUSE mount. */
public final class Flags {
  private Flags() {}

  /**
   * The access mode, and {@code O_TRUNC} where the open may write (Linux leaves {@code O_TRUNC} with
   * {@code O_RDONLY} unspecified; it truncates nothing here). {@code O_CREAT} is not looked at.
   */
  public static OpenMode access(int flags) {
    int acc = flags & O_ACCMODE;
    OpenMode m = acc == O_WRONLY ? OpenMode.write() : acc == O_RDWR ? OpenMode.readWrite() : OpenMode.read();
    return (flags & O_TRUNC) != 0 && m.canWrite() ? m.truncate() : m;
  }

  /** As {@link #access}, with {@code O_CREAT} (the file made with {@code mode}) and {@code O_EXCL}. */
  public static OpenMode open(int flags, int mode) {
    OpenMode m = access(flags);
    if ((flags & O_CREAT) == 0) {
      return m;
    }
    m = m.create(mode);
    return (flags & O_EXCL) != 0 ? m.exclusive() : m;
  }

  static boolean readable(int flags) {
    return (flags & O_ACCMODE) != O_WRONLY;
  }

  static boolean writable(int flags) {
    return (flags & O_ACCMODE) != O_RDONLY;
  }
}
