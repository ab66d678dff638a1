package org.cachedafs.fuse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Fcntl;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.cache.CachedFile;
import org.cachedafs.cache.Namespace;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.Node;
import org.cachedafs.client.OpenMode;
import org.cachedafs.posix.DafsPosix;
import org.cachedafs.posix.Flags;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FsStats;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.SetAttributes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Flock;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The FUSE callbacks: each turns the kernel's request into calls on the cache and its session, and its
 * failure into minus an errno ({@link Errors}). Paths come from libfuse's high-level API, absolute under
 * the mount; the server resolves them from its root in one LOOKUP, following symlinks that stay inside
 * the export and refusing the rest.
 *
 * <p>Open files are {@link CachedFile}s, by the number in {@code fi->fh} ({@link OpenFiles}); reads and
 * writes go through them, so they are served from the cache under a delegation and go to the server
 * otherwise, or always for an {@code O_DIRECT} open. Attributes come from the cache while it holds the
 * file (this client's own size and times), else from the server by GETATTR, which first recalls another
 * client's write delegation, so a size another client has not written back yet is never shown.
 *
 * <p>Thread-safe: libfuse calls it from many threads at once.
 */
final class DafsFuse extends FuseStubFS {
  private static final Logger log = LoggerFactory.getLogger(DafsFuse.class);

  private static final int F_GETLK = Fcntl.F_GETLK.intValue();
  private static final int F_SETLKW = Fcntl.F_SETLKW.intValue();
  /** utimensat(2)'s markers in {@code tv_nsec}: "now" and "leave as it is". */
  private static final long UTIME_NOW = (1L << 30) - 1;
  private static final long UTIME_OMIT = (1L << 30) - 2;
  /** chown(2)'s "leave as it is", as libfuse passes an unsigned {@code uid_t}. */
  private static final long UNCHANGED_ID = 0xffff_ffffL;

  /**
   * libfuse 2.9's {@code struct fuse_operations} (fuse.h): its flag bits are one {@code unsigned int}
   * after the first 38 operation pointers (getattr to bmap), and six pointers follow them (ioctl to
   * fallocate). jnr-fuse lays them out as four padding bytes it cannot set, so they are written here.
   */
  private static final int POINTERS_BEFORE_FLAGS = 38;
  private static final int POINTERS_AFTER_FLAGS = 6;
  /** {@code flag_nullpath_ok}: reads and writes of a file unlinked while open come with no path, by {@code fh}. */
  private static final int FLAG_NULLPATH_OK = 1;
  /** {@code flag_utime_omit_ok}: utimens gets UTIME_NOW and UTIME_OMIT as they were asked. */
  private static final int FLAG_UTIME_OMIT_OK = 1 << 2;

  private final CacheManager cache;
  private final DafsSession session;
  private final Namespace names;
  private final OpenFiles files = new OpenFiles();
  private final RecordLocks locks = new RecordLocks();
  private final Runnable onMounted;
  /**
   * Each libfuse thread's buffer between the kernel's memory and the cache. One copy more than the
   * cache needs, because the kernel's buffer must not be written after the callback returns, and a
   * request of the session that timed out could still complete into the buffer it was given.
   */
  private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[Attributes.PREFERRED_IO]);
  private boolean ended;

  /** {@code onMounted} runs once the kernel has the mount (its INIT request). */
  DafsFuse(CacheManager cache, Runnable onMounted) {
    this.cache = cache;
    this.session = cache.session();
    this.names = cache.namespace();
    this.onMounted = onMounted;
    int address = Runtime.getSystemRuntime().addressSize();
    Pointer ops = Struct.getMemory(fuseOperations);
    long flags = (long) POINTERS_BEFORE_FLAGS * address;
    if (Struct.size(fuseOperations) != flags + address + (long) POINTERS_AFTER_FLAGS * address) {
      throw new IllegalStateException("jnr-fuse's fuse_operations is not libfuse 2.9's: " + Struct.size(fuseOperations) + " bytes");
    }
    ops.putInt(flags, FLAG_NULLPATH_OK | FLAG_UTIME_OMIT_OK);
  }

  @Override
  protected String getFSName() {
    return "dafs-mount";
  }

  // --- the kernel's side ------------------------------------------------------------------------

  @Override
  public Pointer init(Pointer conn) {
    onMounted.run();
    return null;
  }

  /** After libfuse's loop has ended: the mount is gone, so jnr-fuse's exit hook must not unmount the path again. */
  void unmounted() {
    mounted.set(false);
  }

  /**
   * Closes every file still open (writing back what it holds), then the cache and the session. Called
   * once the kernel sends nothing more, or at a stop that cannot wait for the last file to be closed.
   * Only the first call does anything.
   */
  synchronized void end() {
    if (ended) {
      return;
    }
    ended = true;
    for (OpenFiles.Opened o : files.drain()) {
      try {
        o.file().close();
      } catch (IOException e) {
        log.error("writing back {} at unmount failed: {}", o.file(), e.toString());
      }
    }
    cache.close();
    session.close();
  }

  // --- names and attributes ---------------------------------------------------------------------

  private interface Call {
    int run() throws IOException;
  }

  private interface OnOpen {
    int run(OpenFiles.Opened o) throws IOException;
  }

  /** Runs {@code body} on the open {@code fi} names; EBADF if there is none (it was released). */
  private int onOpen(String operation, String path, FuseFileInfo fi, OnOpen body) {
    OpenFiles.Opened o = files.get(fi.fh.get());
    if (o == null) {
      return Errors.negative(Errno.EBADF);
    }
    return call(operation, path, () -> body.run(o));
  }

  /** Runs {@code call}; a failure is minus its errno. */
  private static int call(String operation, String path, Call call) {
    try {
      return call.run();
    } catch (IOException | RuntimeException e) {
      return Errors.of(e, operation, path);
    }
  }

  private static String relative(String path) {
    return path.startsWith("/") ? path.substring(1) : path;
  }

  /**
   * What the path's file looks like to this client now: the cache's view where it holds the file,
   * else the server's after a GETATTR (which recalls another client's write delegation first).
   */
  private FileAttributes current(String path) throws IOException {
    return names.currentAttributes(relative(path));
  }

  @Override
  public int getattr(String path, FileStat stat) {
    return call("getattr", path, () -> {
      Attributes.fill(current(path), stat);
      return 0;
    });
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    OpenFiles.Opened o = files.get(fi.fh.get());
    if (o == null) {
      return getattr(path, stat);
    }
    return call("fgetattr", path, () -> {
      Attributes.fill(o.file().attributes(), stat);
      return 0;
    });
  }

  /** Runs {@code body} on the path relative to the export's root. */
  private int onPath(String operation, String path, OnPath body) {
    return call(operation, path, () -> {
      body.run(relative(path));
      return 0;
    });
  }

  private interface OnPath {
    void run(String relative) throws IOException;
  }

  @Override
  public int mkdir(String path, @jnr.ffi.types.mode_t long mode) {
    return onPath("mkdir", path, p -> names.mkdir(p, (int) mode & 07777));
  }

  @Override
  public int rmdir(String path) {
    return onPath("rmdir", path, names::rmdir);
  }

  @Override
  public int unlink(String path) {
    return onPath("unlink", path, names::remove);
  }

  @Override
  public int rename(String from, String to) {
    return onPath("rename", from, p -> names.rename(p, relative(to)));
  }

  /** The protocol has no LINK: link(2) says the file system cannot make hard links. */
  @Override
  public int link(String from, String to) {
    return Errors.negative(Errno.EPERM);
  }

  /** The protocol has no SYMLINK: symlink(2) says the file system cannot make symbolic links. */
  @Override
  public int symlink(String target, String path) {
    return Errors.negative(Errno.EPERM);
  }

  /** Nothing is a symlink to the kernel (the server follows them), so this is never asked for a link. */
  @Override
  public int readlink(String path, Pointer buf, @size_t long size) {
    return Errors.negative(Errno.EINVAL);
  }

  /** Regular files come through {@link #create}; the server makes no device, FIFO or socket. */
  @Override
  public int mknod(String path, @jnr.ffi.types.mode_t long mode, @jnr.ffi.types.dev_t long rdev) {
    return Errors.negative(Errno.EPERM);
  }

  @Override
  public int chmod(String path, @jnr.ffi.types.mode_t long mode) {
    return onPath("chmod", path, p -> names.setattr(p, SetAttributes.mode((int) mode & 07777)));
  }

  /**
   * The server keeps files under its own user and sets no owner: a chown that changes nothing
   * succeeds (cp -p, tar and rsync ask for one), any other is EPERM.
   */
  @Override
  public int chown(String path, @jnr.ffi.types.uid_t long uid, @jnr.ffi.types.gid_t long gid) {
    return call("chown", path, () -> {
      FileAttributes a = current(path);
      boolean same = (uid == UNCHANGED_ID || uid == (a.uid() & UNCHANGED_ID)) && (gid == UNCHANGED_ID || gid == (a.gid() & UNCHANGED_ID));
      return same ? 0 : Errors.negative(Errno.EPERM);
    });
  }

  @Override
  public int utimens(String path, Timespec[] times) {
    return call("utimens", path, () -> {
      long now = nanos(Instant.now());
      int mask = 0;
      long[] at = new long[2];
      for (int i = 0; i < 2; i++) {
        long nsec = times[i].tv_nsec.longValue();
        if (nsec == UTIME_OMIT) {
          continue;
        }
        at[i] = nsec == UTIME_NOW ? now : times[i].tv_sec.get() * 1_000_000_000L + nsec;
        mask |= i == 0 ? SetAttributes.ATIME : SetAttributes.MTIME;
      }
      if (mask != 0) {
        names.setattr(relative(path), new SetAttributes(mask, 0, 0, at[0], at[1]));
      }
      return 0;
    });
  }

  private static long nanos(Instant t) {
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  @Override
  public int truncate(String path, @off_t long size) {
    return onPath("truncate", path, p -> names.setattr(p, SetAttributes.size(size)));
  }

  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    OpenFiles.Opened o = files.get(fi.fh.get());
    if (o == null) {
      return truncate(path, size);
    }
    return call("ftruncate", path, () -> {
      o.file().truncate(size);
      return 0;
    });
  }

  @Override
  public int statfs(String path, Statvfs st) {
    return call("statfs", path, () -> {
      FsStats s = session.statfs(session.root());
      long block = Math.max(1, s.blockSize());
      st.f_bsize.set(block);
      st.f_frsize.set(block);
      st.f_blocks.set(s.totalBytes() / block);
      st.f_bfree.set(s.freeBytes() / block);
      st.f_bavail.set(s.usableBytes() / block);
      st.f_namemax.set(s.maxName());
      return 0;
    });
  }

  // --- directories ------------------------------------------------------------------------------

  @Override
  public int opendir(String path, FuseFileInfo fi) {
    return call("opendir", path, () -> current(path).isDirectory() ? 0 : Errors.negative(Errno.ENOTDIR));
  }

  /** The whole directory at once, page by page from the server; libfuse keeps it for the reader's offsets. */
  @Override
  public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
    return call("readdir", path, () -> {
      String r = relative(path);
      Node self = names.lookup(r);
      Pointer mem = Memory.allocateDirect(Runtime.getSystemRuntime(), Struct.size(new FileStat(Runtime.getSystemRuntime())));
      FileStat st = FileStat.of(mem);
      // With use_ino the kernel takes these numbers, and readers skip an entry numbered 0.
      st.st_mode.set(FileStat.S_IFDIR);
      st.st_ino.set(self.attributes().fileId());
      fill(filler, buf, ".", st);
      st.st_ino.set(r.isEmpty() ? self.attributes().fileId() : names.lookup(Namespace.parent(r)).attributes().fileId());
      fill(filler, buf, "..", st);
      for (DirEntry e : names.list(self.handle())) {
        st.st_ino.set(e.attributes().fileId());
        st.st_mode.set(Attributes.typeBits(e.attributes().type()));
        if (fill(filler, buf, e.name(), st) != 0) {
          return 0; // libfuse's buffer is full; it says so itself
        }
      }
      return 0;
    });
  }

  /** Hands one name to libfuse, NUL-terminated in UTF-8 as the kernel takes names. */
  private static int fill(FuseFillDir filler, Pointer buf, String name, FileStat st) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer z = ByteBuffer.allocate(utf8.length + 1).put(utf8).put((byte) 0).flip();
    return filler.apply(buf, z, Struct.getMemory(st), 0);
  }

  @Override
  public int releasedir(String path, FuseFileInfo fi) {
    return 0;
  }

  @Override
  public int fsyncdir(String path, FuseFileInfo fi) {
    return onPath("fsyncdir", path, p -> session.fsync(names.handle(p), false));
  }

  // --- open files -------------------------------------------------------------------------------

  private int open(String operation, String path, FuseFileInfo fi, OpenMode mode) {
    int flags = fi.flags.get();
    return call(operation, path, () -> {
      CachedFile f = names.open(relative(path), mode, (flags & DafsPosix.O_DIRECT) != 0);
      fi.fh.set(files.add(new OpenFiles.Opened(f, flags)));
      return 0;
    });
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    // With atomic_o_trunc the kernel leaves O_TRUNC to the open, so the cache drops what it held at once.
    return open("open", path, fi, Flags.access(fi.flags.get()));
  }

  @Override
  public int create(String path, @jnr.ffi.types.mode_t long mode, FuseFileInfo fi) {
    return open("create", path, fi, Flags.open(fi.flags.get() | DafsPosix.O_CREAT, (int) mode & 07777));
  }

  private byte[] buffer(int size) {
    byte[] b = buffers.get();
    if (b.length < size) {
      b = new byte[size];
      buffers.set(b);
    }
    return b;
  }

  /**
   * Reads as much as asked for, short only at the end of the file: the mount is direct_io, and to the
   * kernel a short read there means the end of the file.
   */
  @Override
  public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return onOpen("read", path, fi, o -> {
      byte[] b = buffer((int) size);
      ByteBuffer dst = ByteBuffer.wrap(b, 0, (int) size);
      int total = 0;
      while (dst.hasRemaining()) {
        int n = o.file().read(offset + total, dst);
        if (n < 0) {
          break;
        }
        total += n;
      }
      buf.put(0, b, 0, total);
      return total;
    });
  }

  /**
   * Writes at the kernel's offset; an {@code O_APPEND} open appends at the end the cache sees (its own
   * under a delegation, else the server's), since the kernel's idea of the size may be older.
   */
  @Override
  public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return onOpen("write", path, fi, o -> {
      byte[] b = buffer((int) size);
      buf.get(0, b, 0, (int) size);
      ByteBuffer src = ByteBuffer.wrap(b, 0, (int) size);
      if ((o.flags() & DafsPosix.O_APPEND) != 0) {
        o.file().append(src);
        return (int) size;
      }
      return o.file().write(offset, src);
    });
  }

  /** At each close(2) of a descriptor: write back, so a write-back error is reported to close(2), as on NFS. */
  @Override
  public int flush(String path, FuseFileInfo fi) {
    return onOpen("flush", path, fi, o -> {
      o.file().flush();
      return 0;
    });
  }

  @Override
  public int fsync(String path, int datasync, FuseFileInfo fi) {
    return onOpen("fsync", path, fi, o -> {
      o.file().sync(datasync != 0);
      return 0;
    });
  }

  /** The last close of the open: the kernel does not wait for this answer, so a failure is only logged. */
  @Override
  public int release(String path, FuseFileInfo fi) {
    OpenFiles.Opened o = files.remove(fi.fh.get());
    if (o == null) {
      return 0;
    }
    return call("release", path, () -> {
      o.file().close();
      return 0;
    });
  }

  // --- record locks -----------------------------------------------------------------------------

  /** The server's side of a file's locks, through one open of it. */
  private RecordLocks.Server server(CachedFile f) {
    return new RecordLocks.Server() {
      @Override
      public boolean lock(LockRange r) throws IOException {
        return f.tryLock(r);
      }

      @Override
      public void unlock(LockRange r) throws IOException {
        f.unlock(r);
      }

      @Override
      public Optional<LockRange> test(LockRange r) throws IOException {
        return session.testLock(f.handle(), r);
      }
    };
  }

  /**
   * fcntl(2) record locks: F_GETLK, F_SETLK and F_SETLKW, held against this mount's other processes
   * here and against other clients on the server ({@link RecordLocks}). libfuse gives the range from
   * the start of the file ({@code l_whence} SEEK_SET), a length of 0 meaning to the end and beyond.
   */
  @Override
  public int lock(String path, FuseFileInfo fi, int cmd, Flock flock) {
    return onOpen("lock", path, fi, o -> {
      long owner = fi.lock_owner.get();
      long start = flock.l_start.get();
      long len = flock.l_len.get();
      if (start < 0 || len < 0) {
        return Errors.negative(Errno.EINVAL);
      }
      long end = len == 0 || start > Long.MAX_VALUE - len ? Long.MAX_VALUE : start + len;
      int type = flock.l_type.get();
      FileHandle h = o.file().handle();
      RecordLocks.Server server = server(o.file());
      if (type == Flock.F_UNLCK) {
        if (cmd != F_GETLK) {
          locks.unlock(h, server, owner, start, end);
        }
        return 0;
      }
      int pid = (int) getContext().pid.get();
      RecordLocks.Held wanted = new RecordLocks.Held(owner, pid, start, end, type == Flock.F_WRLCK);
      if (cmd == F_GETLK) {
        Optional<RecordLocks.Held> c = locks.conflict(h, server, wanted);
        if (c.isEmpty()) {
          flock.l_type.set((short) Flock.F_UNLCK);
        } else {
          RecordLocks.Held held = c.get();
          flock.l_type.set((short) (held.exclusive() ? Flock.F_WRLCK : Flock.F_RDLCK));
          flock.l_start.set(held.start());
          flock.l_len.set(held.end() == Long.MAX_VALUE ? 0 : held.end() - held.start());
          flock.l_pid.set(held.pid());
        }
        return 0;
      }
      if (cmd == F_SETLKW) {
        return locks.lockWaiting(h, server, wanted, () -> PendingSignals.interrupted(pid)) ? 0 : Errors.negative(Errno.EINTR);
      }
      return locks.lock(h, server, wanted) ? 0 : Errors.negative(Errno.EAGAIN);
    });
  }
}
