package org.cachedafs.posix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import jnr.constants.platform.Errno;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.cache.CachedFile;
import org.cachedafs.cache.Namespace;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.SetAttributes;

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
  private static final int AT_FDCWD = -100;

  /** An open descriptor: one of the operating system's, or a file through the cache with its offset. */
  private sealed interface Descriptor permits Native, Dafs {}

  private record Native(int osFd) implements Descriptor {}

  private static final class Dafs implements Descriptor {
    final CachedFile file;
    final int flags;
    /** Guarded by this. */
    long position;

    Dafs(CachedFile file, int flags) {
      this.file = file;
      this.flags = flags;
    }
  }

  /** The operating system, with a handler that leaves failures to errno instead of throwing. */
  private final POSIX os = POSIXFactory.getNativePOSIX(new ErrnoOnlyHandler());
  private final MountTable mounts = new MountTable();
  private final Map<Integer, Descriptor> fds = new ConcurrentHashMap<>();
  private final Map<Integer, DirectoryListing> dirs = new ConcurrentHashMap<>();
  private final ThreadLocal<int[]> errno = ThreadLocal.withInitial(() -> new int[1]);

  private record DirectoryListing(List<String> names, int[] next) {}

  /**
   * Paths under {@code prefix} go to {@code cache} (and its session) from now on, in place of any mount
   * at the same prefix: that is how a mount whose session was lost (every call on it fails with EIO,
   * and {@code cache.session().failure()} says why) is replaced. The caller closes the old cache and session.
   */
  public void mount(String prefix, CacheManager cache) {
    mounts.add(prefix, cache);
  }

  /** The error of this thread's last failed call. */
  public int errno() {
    return errno.get()[0];
  }

  private int fail(int e) {
    errno.get()[0] = e;
    return -1;
  }

  private int fail(Errno e) {
    return fail(e.intValue());
  }

  private int fail(IOException e) {
    return fail(e instanceof DafsException d ? Errnos.of(d.status()) : Errno.EIO.intValue());
  }

  private int osResult(long r) {
    return r < 0 ? fail(os.errno()) : (int) r;
  }

  private synchronized int allocate(Descriptor d) {
    int fd = 3;
    while (fds.containsKey(fd) || dirs.containsKey(fd)) {
      fd++;
    }
    fds.put(fd, d);
    return fd;
  }

  // --- open and close --------------------------------------------------------------------------

  public int open(String path, int flags) {
    return open(path, flags, 0644);
  }

  public int open(String path, int flags, int mode) {
    if (path.isEmpty()) {
      return fail(Errno.ENOENT);
    }
    MountTable.Resolved r = mounts.resolve(path);
    if (r == null) {
      int osFd = os.open(MountTable.absolute(path), flags & ~O_DIRECT, mode);
      return osFd < 0 ? fail(os.errno()) : allocate(new Native(osFd));
    }
    int acc = flags & O_ACCMODE;
    OpenMode m = acc == O_WRONLY ? OpenMode.write() : acc == O_RDWR ? OpenMode.readWrite() : OpenMode.read();
    if ((flags & O_CREAT) != 0) {
      m = m.create(mode);
      if ((flags & O_EXCL) != 0) {
        m = m.exclusive();
      }
    }
    if ((flags & O_TRUNC) != 0 && m.canWrite()) {
      m = m.truncate();
    }
    try {
      CacheManager cache = r.mount().cache();
      if (r.components().isEmpty()) {
        return fail(Errno.EISDIR); // the mount root itself: only as a directory stream
      }
      if ((flags & O_DIRECTORY) != 0) {
        // Checked before opening, so that O_DIRECTORY|O_TRUNC on a file truncates nothing.
        if (!cache.namespace().lookup(r.relative()).attributes().isDirectory()) {
          return fail(Errno.ENOTDIR);
        }
      }
      CachedFile f = cache.namespace().open(r.relative(), m, (flags & O_DIRECT) != 0);
      return allocate(new Dafs(f, flags));
    } catch (IOException e) {
      return fail(e);
    }
  }

  public int close(int fd) {
    Descriptor d = fds.remove(fd);
    if (d == null) {
      return fail(Errno.EBADF);
    }
    if (d instanceof Native n) {
      return osResult(os.close(n.osFd()));
    }
    try {
      ((Dafs) d).file.close();
      return 0;
    } catch (IOException e) {
      return fail(e); // the descriptor is closed all the same, as with close(2)
    }
  }

  // --- data ------------------------------------------------------------------------------------

  /** Reads up to {@code len} bytes at the descriptor's offset; 0 at end of file. */
  public long read(int fd, byte[] buf, int off, int len) {
    Descriptor d = fds.get(fd);
    if (d == null) {
      return fail(Errno.EBADF);
    }
    if (d instanceof Native n) {
      return osResult(os.read(n.osFd(), ByteBuffer.wrap(buf, off, len).slice(), (long) len));
    }
    Dafs f = (Dafs) d;
    if ((f.flags & O_ACCMODE) == O_WRONLY) {
      return fail(Errno.EBADF);
    }
    synchronized (f) {
      long n = readAt(f, buf, off, len, f.position);
      if (n > 0) {
        f.position += n;
      }
      return n;
    }
  }

  public long pread(int fd, byte[] buf, int off, int len, long offset) {
    Descriptor d = fds.get(fd);
    if (d == null) {
      return fail(Errno.EBADF);
    }
    if (offset < 0) {
      return fail(Errno.EINVAL);
    }
    if (d instanceof Native n) {
      return osResult(os.pread(n.osFd(), ByteBuffer.wrap(buf, off, len).slice(), (long) len, offset));
    }
    Dafs f = (Dafs) d;
    if ((f.flags & O_ACCMODE) == O_WRONLY) {
      return fail(Errno.EBADF);
    }
    return readAt(f, buf, off, len, offset);
  }

  /**
   * This thread's buffer over the array it last read into. A cached read takes about 100 ns, and a new
   * {@code ByteBuffer.wrap} per call, which escapes into the cache, would add an allocation to every
   * one; callers mostly read into the same array again. It holds on to that one array per thread.
   */
  private final ThreadLocal<ByteBuffer[]> readBuffers = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

  private ByteBuffer readBuffer(byte[] buf, int off, int len) {
    ByteBuffer[] held = readBuffers.get();
    ByteBuffer b = held[0];
    if (b == null || b.array() != buf) {
      b = ByteBuffer.wrap(buf);
      held[0] = b;
    }
    b.limit(off + len).position(off);
    return b;
  }

  private long readAt(Dafs f, byte[] buf, int off, int len, long at) {
    try {
      ByteBuffer dst = readBuffer(buf, off, len);
      long total = 0;
      while (dst.hasRemaining()) {
        int n = f.file.read(at + total, dst);
        if (n < 0) {
          break;
        }
        total += n;
      }
      return total;
    } catch (IOException e) {
      return fail(e);
    }
  }

  /** Writes at the descriptor's offset, or at the end with {@code O_APPEND}; returns the count. */
  public long write(int fd, byte[] buf, int off, int len) {
    Descriptor d = fds.get(fd);
    if (d == null) {
      return fail(Errno.EBADF);
    }
    if (d instanceof Native n) {
      return osResult(os.write(n.osFd(), ByteBuffer.wrap(buf, off, len).slice(), (long) len));
    }
    Dafs f = (Dafs) d;
    if ((f.flags & O_ACCMODE) == O_RDONLY) {
      return fail(Errno.EBADF);
    }
    synchronized (f) {
      try {
        if ((f.flags & O_APPEND) != 0) {
          // The end and the write are one step against this client's other appenders.
          long at = f.file.append(ByteBuffer.wrap(buf, off, len));
          f.position = at + len;
          return len;
        }
        long n = writeAt(f, buf, off, len, f.position);
        if (n > 0) {
          f.position += n;
        }
        return n;
      } catch (IOException e) {
        return fail(e);
      }
    }
  }

  public long pwrite(int fd, byte[] buf, int off, int len, long offset) {
    Descriptor d = fds.get(fd);
    if (d == null) {
      return fail(Errno.EBADF);
    }
    if (offset < 0) {
      return fail(Errno.EINVAL);
    }
    if (d instanceof Native n) {
      return osResult(os.pwrite(n.osFd(), ByteBuffer.wrap(buf, off, len).slice(), (long) len, offset));
    }
    Dafs f = (Dafs) d;
    if ((f.flags & O_ACCMODE) == O_RDONLY) {
      return fail(Errno.EBADF);
    }
    // Linux ignores the offset of pwrite(2) on an O_APPEND descriptor and appends.
    try {
      if ((f.flags & O_APPEND) != 0) {
        f.file.append(ByteBuffer.wrap(buf, off, len));
        return len;
      }
      return writeAt(f, buf, off, len, offset);
    } catch (IOException e) {
      return fail(e);
    }
  }

  private long writeAt(Dafs f, byte[] buf, int off, int len, long at) {
    try {
      return f.file.write(at, ByteBuffer.wrap(buf, off, len));
    } catch (IOException e) {
      return fail(e);
    }
  }

  public long lseek(int fd, long offset, int whence) {
    Descriptor d = fds.get(fd);
    if (d == null) {
      return fail(Errno.EBADF);
    }
    if (d instanceof Native n) {
      long r = os.lseekLong(n.osFd(), offset, whence);
      return r < 0 ? fail(os.errno()) : r;
    }
    Dafs f = (Dafs) d;
    synchronized (f) {
      try {
        long base = switch (whence) {
          case SEEK_SET -> 0;
          case SEEK_CUR -> f.position;
          case SEEK_END -> f.file.size();
          default -> -1;
        };
        if (base < 0 || base + offset < 0) {
          return fail(Errno.EINVAL);
        }
        f.position = base + offset;
        return f.position;
      } catch (IOException e) {
        return fail(e);
      }
    }
  }

  public int ftruncate(int fd, long length) {
    Descriptor d = fds.get(fd);
    if (d == null) {
      return fail(Errno.EBADF);
    }
    if (length < 0) {
      return fail(Errno.EINVAL);
    }
    if (d instanceof Native n) {
      return osResult(os.ftruncate(n.osFd(), length));
    }
    Dafs f = (Dafs) d;
    if ((f.flags & O_ACCMODE) == O_RDONLY) {
      return fail(Errno.EINVAL); // Linux: ftruncate on a descriptor not open for writing
    }
    try {
      f.file.truncate(length);
      return 0;
    } catch (IOException e) {
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
    Descriptor d = fds.get(fd);
    if (d == null) {
      return fail(Errno.EBADF);
    }
    if (d instanceof Native n) {
      return osResult(dataOnly ? os.fdatasync(n.osFd()) : os.fsync(n.osFd()));
    }
    try {
      ((Dafs) d).file.sync(dataOnly);
      return 0;
    } catch (IOException e) {
      return fail(e);
    }
  }

  // --- attributes ------------------------------------------------------------------------------

  /** The attributes of an open file, or null with errno set. */
  public Stat fstat(int fd) {
    Descriptor d = fds.get(fd);
    if (d == null) {
      fail(Errno.EBADF);
      return null;
    }
    if (d instanceof Native n) {
      FileStat st = os.allocateStat();
      return os.fstat(n.osFd(), st) < 0 ? failNull(os.errno()) : of(st);
    }
    try {
      return of(((Dafs) d).file.attributes());
    } catch (IOException e) {
      fail(e);
      return null;
    }
  }

  /** The attributes of a path (following a final symlink), or null with errno set. */
  public Stat stat(String path) {
    if (path.isEmpty()) {
      return failNull(Errno.ENOENT.intValue());
    }
    MountTable.Resolved r = mounts.resolve(path);
    if (r == null) {
      FileStat st = os.allocateStat();
      return os.stat(MountTable.absolute(path), st) < 0 ? failNull(os.errno()) : of(st);
    }
    try {
      // Under a delegation, this client's unflushed writes count.
      return of(r.mount().cache().namespace().attributes(r.relative()));
    } catch (IOException e) {
      fail(e);
      return null;
    }
  }

  private Stat failNull(int e) {
    fail(e);
    return null;
  }

  private static Stat of(FileStat st) {
    return new Stat(st.mode(), st.st_size(), st.nlink(), st.uid(), st.gid(), TimeUnit.SECONDS.toNanos(st.atime()),
        TimeUnit.SECONDS.toNanos(st.mtime()), TimeUnit.SECONDS.toNanos(st.ctime()), st.ino());
  }

  private static Stat of(FileAttributes a) {
    return new Stat(a.mode(), a.size(), a.nlink(), a.uid(), a.gid(), a.accessTimeNanos(), a.modifyTimeNanos(), a.changeTimeNanos(), a.fileId());
  }

  /**
   * Whether the calling process may access {@code path} as {@code amode} asks ({@link #F_OK} or a
   * mask of {@link #R_OK}, {@link #W_OK}, {@link #X_OK}); 0 or -1 with EACCES or ENOENT. For DAFS paths
   * the check is made against this process's effective uid and groups, as the kernel would.
   */
  public int access(String path, int amode) {
    if (path.isEmpty()) {
      return fail(Errno.ENOENT);
    }
    MountTable.Resolved r = mounts.resolve(path);
    if (r == null) {
      return osResult(os.access(MountTable.absolute(path), amode));
    }
    Stat st = stat(path);
    if (st == null) {
      return -1;
    }
    if (amode == F_OK) {
      return 0;
    }
    int uid = os.geteuid();
    int bits;
    if (uid == 0) {
      // root: read and write always; execute if anyone may, or for a directory
      bits = 6 | ((st.mode() & 0111) != 0 || st.isDirectory() ? 1 : 0);
    } else if (uid == st.uid()) {
      bits = (st.mode() >> 6) & 7;
    } else if (os.getegid() == st.gid()) {
      bits = (st.mode() >> 3) & 7;
    } else {
      bits = st.mode() & 7;
    }
    return (bits & amode) == amode ? 0 : fail(Errno.EACCES);
  }

  /** What a path call does when the path is under a mount. */
  private interface OnMount {
    void run(Namespace names, String relative) throws IOException;
  }

  /**
   * The shape every path call shares: an empty path is ENOENT; an operating-system path goes to JNR
   * ({@code os}); a DAFS path runs {@code dafs}, and its failure becomes the errno.
   */
  private int pathCall(String path, java.util.function.IntSupplier os, OnMount dafs) {
    if (path.isEmpty()) {
      return fail(Errno.ENOENT);
    }
    MountTable.Resolved r = mounts.resolve(path);
    if (r == null) {
      return osResult(os.getAsInt());
    }
    try {
      dafs.run(r.mount().cache().namespace(), r.relative());
      return 0;
    } catch (IOException e) {
      return fail(e);
    }
  }

  public int chmod(String path, int mode) {
    return pathCall(path, () -> os.chmod(MountTable.absolute(path), mode),
        (names, p) -> names.setattr(p, SetAttributes.mode(mode)));
  }

  /** Sets access and modification times, in nanoseconds since the epoch. */
  public int utimes(String path, long accessNanos, long modifyNanos) {
    long[] a = {accessNanos / 1_000_000_000L, accessNanos % 1_000_000_000L};
    long[] m = {modifyNanos / 1_000_000_000L, modifyNanos % 1_000_000_000L};
    return pathCall(path, () -> os.utimensat(AT_FDCWD, MountTable.absolute(path), a, m, 0),
        (names, p) -> names.setattr(p, SetAttributes.times(accessNanos, modifyNanos)));
  }

  // --- names -----------------------------------------------------------------------------------

  public int unlink(String path) {
    return pathCall(path, () -> os.unlink(MountTable.absolute(path)), Namespace::remove);
  }

  public int mkdir(String path, int mode) {
    return pathCall(path, () -> os.mkdir(MountTable.absolute(path), mode), (names, p) -> {
      if (p.isEmpty()) {
        throw new DafsException(org.cachedafs.protocol.Status.EXIST, "the mount point");
      }
      names.mkdir(p, mode);
    });
  }

  public int rmdir(String path) {
    if (!path.isEmpty()) {
      MountTable.Resolved r = mounts.resolve(path);
      if (r != null && r.components().isEmpty()) {
        return fail(Errno.EBUSY); // the mount point
      }
    }
    return pathCall(path, () -> os.rmdir(MountTable.absolute(path)), Namespace::rmdir);
  }

  /** Renames within one file system; across a mount boundary it fails with EXDEV, as rename(2) does. */
  public int rename(String from, String to) {
    MountTable.Resolved a = mounts.resolve(from);
    MountTable.Resolved b = mounts.resolve(to);
    if (a == null && b == null) {
      return osResult(os.rename(MountTable.absolute(from), MountTable.absolute(to)));
    }
    if (a == null || b == null || a.mount() != b.mount()) {
      return fail(Errno.EXDEV);
    }
    try {
      a.mount().cache().namespace().rename(a.relative(), b.relative());
      return 0;
    } catch (IOException e) {
      return fail(e);
    }
  }

  // --- directories -----------------------------------------------------------------------------

  /** Opens a directory stream; returns its handle, or -1 with errno set. */
  public int opendir(String path) {
    if (path.isEmpty()) {
      return fail(Errno.ENOENT);
    }
    MountTable.Resolved r = mounts.resolve(path);
    List<String> names = new ArrayList<>(List.of(".", ".."));
    try {
      if (r == null) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of(MountTable.absolute(path)))) {
          for (Path p : ds) {
            names.add(p.getFileName().toString());
          }
        }
      } else {
        Namespace ns = r.mount().cache().namespace();
        for (DirEntry e : ns.list(ns.handle(r.relative()))) {
          names.add(e.name());
        }
      }
    } catch (java.nio.file.NoSuchFileException e) {
      return fail(Errno.ENOENT);
    } catch (java.nio.file.NotDirectoryException e) {
      return fail(Errno.ENOTDIR);
    } catch (java.nio.file.AccessDeniedException e) {
      return fail(Errno.EACCES);
    } catch (IOException e) {
      return fail(e);
    }
    synchronized (this) {
      int h = 3;
      while (fds.containsKey(h) || dirs.containsKey(h)) {
        h++;
      }
      dirs.put(h, new DirectoryListing(names, new int[1]));
      return h;
    }
  }

  /** The next name in a directory stream; null at its end (errno 0) or on error (errno set). */
  public String readdir(int dir) {
    DirectoryListing l = dirs.get(dir);
    if (l == null) {
      fail(Errno.EBADF);
      return null;
    }
    synchronized (l) {
      if (l.next()[0] >= l.names().size()) {
        errno.get()[0] = 0;
        return null;
      }
      return l.names().get(l.next()[0]++);
    }
  }

  public int closedir(int dir) {
    return dirs.remove(dir) == null ? fail(Errno.EBADF) : 0;
  }

  /** Closes every descriptor and directory stream still open. */
  @Override
  public void close() {
    for (Integer fd : new ArrayList<>(fds.keySet())) {
      close(fd);
    }
    dirs.clear();
  }
}
