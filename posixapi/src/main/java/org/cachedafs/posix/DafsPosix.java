package org.cachedafs.posix;

import java.util.ArrayList;
import java.util.List;
import jnr.constants.platform.Errno;
import jnr.constants.platform.OpenFlags;
import org.cachedafs.cache.CacheManager;

/**
 * A POSIX-style file API for legacy-style code: int file descriptors, -1 and {@link #errno()} on error,
 * the platform's errno numbers and flag values. Paths under a DAFS mount ({@link #mount}) go to the
 * cache; every other path goes to the operating system through JNR-POSIX, so the same calls work for
 * both, as a library linked in front of libc would make them.
 *
 * <p>Semantics follow Linux: a read at end of file returns 0, {@code O_APPEND} writes at the end,
 * errors are EBADF for a closed descriptor, EISDIR, ENOTEMPTY, EEXIST with {@code O_EXCL}, ENOENT, and
 * so on. Descriptors are this object's own (lowest free number first, from 3), for both kinds of file.
 * The errno is per thread and per facade, and, as in C, only a failing call sets it. Thread-safe.
 *
 * <p><b>Parts.</b> The facade resolves a path to its {@link Backend} ({@link MountTable}): the operating
 * system's ({@link OsFiles}) or a mount's ({@link DafsFiles}, over the cache's namespace core); a
 * descriptor number to its {@link OpenFile} or {@link DirectoryListing} ({@link Descriptors}); {@link
 * Flags} turns open(2)'s flags into the cache's open mode. Backends fail with an {@link
 * ErrnoException}, which the facade turns into -1 and this thread's errno.
 */
public final class DafsPosix implements AutoCloseable {
  public static final int O_RDONLY = OpenFlags.O_RDONLY.intValue();
  public static final int O_WRONLY = OpenFlags.O_WRONLY.intValue();
  public static final int O_RDWR = OpenFlags.O_RDWR.intValue();
  public static final int O_ACCMODE = OpenFlags.O_ACCMODE.intValue();
  public static final int O_CREAT = OpenFlags.O_CREAT.intValue();
  public static final int O_EXCL = OpenFlags.O_EXCL.intValue();
  public static final int O_TRUNC = OpenFlags.O_TRUNC.intValue();
  public static final int O_APPEND = OpenFlags.O_APPEND.intValue();
  public static final int O_DIRECTORY = OpenFlags.O_DIRECTORY.intValue();
  /**
   * Linux's O_DIRECT for this architecture (jnr-constants does not define it): bypass the cache for this
   * descriptor. 040000 on x86; 0200000 on arm, where 040000 is O_DIRECTORY.
   */
  public static final int O_DIRECT = isArm() ? 0200000 : 040000;

  private static boolean isArm() {
    String arch = System.getProperty("os.arch", "");
    return arch.startsWith("aarch64") || arch.startsWith("arm");
  }
  public static final int SEEK_SET = 0;
  public static final int SEEK_CUR = 1;
  public static final int SEEK_END = 2;
  public static final int F_OK = 0;
  public static final int X_OK = 1;
  public static final int W_OK = 2;
  public static final int R_OK = 4;

  private final OsFiles os = new OsFiles();
  private final ReadBuffers readBuffers = new ReadBuffers();
  private final MountTable mounts = new MountTable();
  private final Descriptors descriptors = new Descriptors();
  private final ThreadLocal<int[]> errno = ThreadLocal.withInitial(() -> new int[1]);

  /**
   * Paths under {@code prefix} go to {@code cache} (and its session) from now on, in place of any mount
   * at the same prefix: that is how a mount whose session was lost (every call on it fails with EIO,
   * and {@code cache.session().failure()} says why) is replaced. The caller closes the old cache and session.
   */
  public void mount(String prefix, CacheManager cache) {
    mounts.add(prefix, new DafsFiles(cache, readBuffers, os));
  }

  /** The error of this thread's last failed call. */
  public int errno() {
    return errno.get()[0];
  }

  private int fail(ErrnoException e) {
    errno.get()[0] = e.errno();
    return -1;
  }

  private <T> T failNull(ErrnoException e) {
    fail(e);
    return null;
  }

  /** A path in the backend it belongs to, in that backend's form. */
  private record Target(Backend backend, String path) {}

  private Target resolve(String path) {
    MountTable.Resolved r = mounts.resolve(path);
    return r == null ? new Target(os, MountTable.absolute(path)) : new Target(r.mount().files(), r.relative());
  }

  /** As {@link #resolve}; an empty path is ENOENT, as the kernel has it. */
  private Target target(String path) throws ErrnoException {
    if (path.isEmpty()) {
      throw new ErrnoException(Errno.ENOENT);
    }
    return resolve(path);
  }

  private OpenFile file(int fd) throws ErrnoException {
    return descriptors.get(fd, OpenFile.class);
  }

  private interface PathCall {
    void run(Backend backend, String path) throws ErrnoException;
  }

  /** The shape every path call with no result shares: 0, or -1 and the errno. */
  private int pathCall(String path, PathCall call) {
    try {
      Target t = target(path);
      call.run(t.backend(), t.path());
      return 0;
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  // --- open and close --------------------------------------------------------------------------

  public int open(String path, int flags) {
    return open(path, flags, 0644);
  }

  public int open(String path, int flags, int mode) {
    try {
      Target t = target(path);
      return descriptors.add(t.backend().open(t.path(), flags, mode));
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  public int close(int fd) {
    try {
      descriptors.remove(fd, OpenFile.class).close();
      return 0;
    } catch (ErrnoException e) {
      return fail(e); // the descriptor is closed all the same, as with close(2)
    }
  }

  // --- data ------------------------------------------------------------------------------------

  /** Reads up to {@code len} bytes at the descriptor's offset; 0 at end of file. */
  public long read(int fd, byte[] buf, int off, int len) {
    try {
      return file(fd).read(buf, off, len);
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  public long pread(int fd, byte[] buf, int off, int len, long offset) {
    try {
      OpenFile f = file(fd);
      if (offset < 0) {
        throw new ErrnoException(Errno.EINVAL);
      }
      return f.pread(buf, off, len, offset);
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  /** Writes at the descriptor's offset, or at the end with {@code O_APPEND}; returns the count. */
  public long write(int fd, byte[] buf, int off, int len) {
    try {
      return file(fd).write(buf, off, len);
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  public long pwrite(int fd, byte[] buf, int off, int len, long offset) {
    try {
      OpenFile f = file(fd);
      if (offset < 0) {
        throw new ErrnoException(Errno.EINVAL);
      }
      return f.pwrite(buf, off, len, offset);
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  public long lseek(int fd, long offset, int whence) {
    try {
      return file(fd).lseek(offset, whence);
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  public int ftruncate(int fd, long length) {
    try {
      OpenFile f = file(fd);
      if (length < 0) {
        throw new ErrnoException(Errno.EINVAL);
      }
      f.truncate(length);
      return 0;
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  public int fsync(int fd) {
    return sync(fd, false);
  }

  public int fdatasync(int fd) {
    return sync(fd, true);
  }

  private int sync(int fd, boolean dataOnly) {
    try {
      file(fd).sync(dataOnly);
      return 0;
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  // --- attributes ------------------------------------------------------------------------------

  /** The attributes of an open file, or null with errno set. */
  public Stat fstat(int fd) {
    try {
      return file(fd).stat();
    } catch (ErrnoException e) {
      return failNull(e);
    }
  }

  /** The attributes of a path (following a final symlink), or null with errno set. */
  public Stat stat(String path) {
    try {
      Target t = target(path);
      return t.backend().stat(t.path());
    } catch (ErrnoException e) {
      return failNull(e);
    }
  }

  /**
   * Whether the calling process may access {@code path} as {@code amode} asks ({@link #F_OK} or a
   * mask of {@link #R_OK}, {@link #W_OK}, {@link #X_OK}); 0 or -1 with EACCES or ENOENT. For DAFS paths
   * the check is made against this process's effective uid and groups, as the kernel would.
   */
  public int access(String path, int amode) {
    return pathCall(path, (b, p) -> b.access(p, amode));
  }

  public int chmod(String path, int mode) {
    return pathCall(path, (b, p) -> b.chmod(p, mode));
  }

  /** Sets access and modification times, in nanoseconds since the epoch. */
  public int utimes(String path, long accessNanos, long modifyNanos) {
    return pathCall(path, (b, p) -> b.utimes(p, accessNanos, modifyNanos));
  }

  // --- names -----------------------------------------------------------------------------------

  public int unlink(String path) {
    return pathCall(path, Backend::unlink);
  }

  public int mkdir(String path, int mode) {
    return pathCall(path, (b, p) -> b.mkdir(p, mode));
  }

  public int rmdir(String path) {
    return pathCall(path, Backend::rmdir);
  }

  /** Renames within one file system; across a mount boundary it fails with EXDEV, as rename(2) does. */
  public int rename(String from, String to) {
    Target a = resolve(from);
    Target b = resolve(to);
    if (a.backend() != b.backend()) {
      return fail(new ErrnoException(Errno.EXDEV));
    }
    try {
      a.backend().rename(a.path(), b.path());
      return 0;
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  // --- directories -----------------------------------------------------------------------------

  /** Opens a directory stream; returns its handle, or -1 with errno set. */
  public int opendir(String path) {
    try {
      Target t = target(path);
      List<String> names = new ArrayList<>(List.of(".", ".."));
      names.addAll(t.backend().list(t.path()));
      return descriptors.add(new DirectoryListing(names));
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  /** The next name in a directory stream; null at its end (errno 0) or on error (errno set). */
  public String readdir(int dir) {
    try {
      String next = descriptors.get(dir, DirectoryListing.class).next();
      if (next == null) {
        errno.get()[0] = 0;
      }
      return next;
    } catch (ErrnoException e) {
      return failNull(e);
    }
  }

  public int closedir(int dir) {
    try {
      descriptors.remove(dir, DirectoryListing.class);
      return 0;
    } catch (ErrnoException e) {
      return fail(e);
    }
  }

  /** Closes every descriptor and directory stream still open. */
  @Override
  public void close() {
    for (int fd : descriptors.numbers()) {
      if (descriptors.remove(fd) instanceof OpenFile f) {
        try {
          f.close();
        } catch (ErrnoException e) {
          fail(e);
        }
      }
    }
  }
}
