package org.cachedafs.server;

import java.io.IOException;
import jnr.constants.platform.Errno;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import jnr.ffi.types.u_int64_t;

/**
 * The libc calls the local-writer fence needs, through jnr-ffi: fanotify_init, fanotify_mark, read
 * and write of a group's descriptor, poll, an eventfd to wake the reader, and name_to_handle_at and
 * statfs to know a file again in events that name it by file handle. Every failure is an
 * {@link IOException} naming the call and the errno.
 *
 * <p>Constants and struct layouts (fanotify_event_metadata, the fid record, pollfd, statfs.f_fsid)
 * are those of Linux on 64-bit x86 and ARM, the only platforms {@link #load} accepts.
 */
final class Fanotify {
  static final int FAN_CLOEXEC = 0x1;
  static final int FAN_NONBLOCK = 0x2;
  static final int FAN_CLASS_CONTENT = 0x4;
  static final int FAN_UNLIMITED_QUEUE = 0x10;
  static final int FAN_UNLIMITED_MARKS = 0x20;
  static final int FAN_REPORT_FID = 0x200;
  static final int FAN_MARK_ADD = 0x1;
  static final int FAN_MARK_REMOVE = 0x2;
  static final int FAN_MARK_DONT_FOLLOW = 0x4;
  static final long FAN_MODIFY = 0x2;
  static final long FAN_ATTRIB = 0x4;
  static final long FAN_CLOSE_WRITE = 0x8;
  static final long FAN_CLOSE_NOWRITE = 0x10;
  static final long FAN_CLOSE = FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE;
  static final long FAN_DELETE_SELF = 0x400;
  static final long FAN_MOVE_SELF = 0x800;
  static final long FAN_Q_OVERFLOW = 0x4000;
  static final long FAN_OPEN_PERM = 0x10000;
  static final int FAN_ALLOW = 0x1;
  static final int FAN_NOFD = -1;
  static final int FANOTIFY_METADATA_VERSION = 3;
  static final int FAN_EVENT_INFO_TYPE_FID = 1;
  static final int O_RDONLY = 0;
  static final int O_LARGEFILE = 0x8000;
  static final int AT_FDCWD = -100;
  static final int EFD_CLOEXEC = 0x80000;
  static final int EFD_NONBLOCK = 0x800;
  static final short POLLIN = 0x1;
  /** The most bytes a file handle has (MAX_HANDLE_SZ). */
  static final int MAX_HANDLE_BYTES = 128;
  static final int EINTR = 4;
  static final int EAGAIN = 11;

  /** The libc functions, bound by jnr-ffi (public only because jnr implements it from another loader). */
  public interface LibC {
    @SaveError
    int fanotify_init(int flags, int eventFileFlags);

    @SaveError
    int fanotify_mark(int fd, int flags, @u_int64_t long mask, int dirfd, String path);

    @SaveError
    @ssize_t
    long read(int fd, Pointer buffer, @size_t long length);

    @SaveError
    @ssize_t
    long write(int fd, @In byte[] buffer, @size_t long length);

    @SaveError
    int close(int fd);

    @SaveError
    int poll(Pointer fds, @u_int64_t long count, int timeoutMillis);

    @SaveError
    int eventfd(int initial, int flags);

    @SaveError
    int name_to_handle_at(int dirfd, String path, Pointer handle, Pointer mountId, int flags);

    @SaveError
    int statfs(String path, Pointer buffer);
  }

  private final LibC libc;
  private final Runtime runtime;

  private Fanotify(LibC libc) {
    this.libc = libc;
    this.runtime = Runtime.getRuntime(libc);
  }

  /** The binding; an IOException saying why where this platform has none. */
  static Fanotify load() throws IOException {
    String os = System.getProperty("os.name", "");
    String arch = System.getProperty("os.arch", "");
    if (!os.equals("Linux")) {
      throw new IOException("fanotify is Linux's, and this is " + os);
    }
    if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
      throw new IOException("the fence knows the fanotify layouts of x86-64 and aarch64 Linux only, not " + arch);
    }
    try {
      return new Fanotify(LibraryLoader.create(LibC.class).load("c"));
    } catch (RuntimeException | LinkageError e) {
      throw new IOException("libc could not be loaded through jnr-ffi: " + e, e);
    }
  }

  Pointer allocate(int bytes) {
    return Memory.allocateDirect(runtime, bytes, true);
  }

  int lastError() {
    return runtime.getLastError();
  }

  private IOException error(String call) {
    int errno = runtime.getLastError();
    Errno e = Errno.valueOf(errno);
    return new IOException(call + " failed: " + (e == null || !e.defined() ? "errno " + errno : e.name() + " (" + e.description() + ")"));
  }

  int init(int flags, int eventFileFlags) throws IOException {
    int fd = libc.fanotify_init(flags, eventFileFlags);
    if (fd < 0) {
      throw error("fanotify_init");
    }
    return fd;
  }

  void mark(int group, int flags, long mask, String path) throws IOException {
    if (libc.fanotify_mark(group, flags, mask, AT_FDCWD, path) != 0) {
      throw error("fanotify_mark(" + path + ")");
    }
  }

  /** Reads what the group has (non-blocking): the byte count, or -1 if nothing is there now. */
  int read(int fd, Pointer buffer, int length) throws IOException {
    while (true) {
      long n = libc.read(fd, buffer, length);
      if (n >= 0) {
        return (int) n;
      }
      int errno = runtime.getLastError();
      if (errno == EAGAIN) {
        return -1;
      }
      if (errno != EINTR) {
        throw error("read");
      }
    }
  }

  /** Answers a permission event: struct fanotify_response {s32 fd; u32 response}. */
  void respond(int group, int eventFd, int response) throws IOException {
    byte[] r = new byte[8];
    putInt(r, 0, eventFd);
    putInt(r, 4, response);
    while (libc.write(group, r, r.length) != r.length) {
      if (runtime.getLastError() != EINTR) {
        throw error("write(fanotify_response)");
      }
    }
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) v; // little-endian on both platforms
    b[at + 1] = (byte) (v >>> 8);
    b[at + 2] = (byte) (v >>> 16);
    b[at + 3] = (byte) (v >>> 24);
  }

  void closeQuietly(int fd) {
    if (fd >= 0) {
      libc.close(fd);
    }
  }

  int eventfd() throws IOException {
    int fd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
      throw error("eventfd");
    }
    return fd;
  }

  /** Adds one to an eventfd's counter, which makes it readable. */
  void signal(int eventFd) {
    byte[] one = new byte[8];
    one[0] = 1;
    libc.write(eventFd, one, 8);
  }

  /** Waits for one of {@code fds} to be readable, up to {@code timeoutMillis} (-1: forever); the readable ones' indexes as bits. */
  int pollReadable(Pointer pollfds, int[] fds, int timeoutMillis) throws IOException {
    for (int i = 0; i < fds.length; i++) {
      pollfds.putInt(8L * i, fds[i]);
      pollfds.putShort(8L * i + 4, POLLIN);
      pollfds.putShort(8L * i + 6, (short) 0);
    }
    int n = libc.poll(pollfds, fds.length, timeoutMillis);
    if (n < 0) {
      if (runtime.getLastError() == EINTR) {
        return 0;
      }
      throw error("poll");
    }
    int ready = 0;
    for (int i = 0; i < fds.length; i++) {
      if (pollfds.getShort(8L * i + 6) != 0) {
        ready |= 1 << i;
      }
    }
    return ready;
  }

  /**
   * The file handle the kernel gives {@code path} (not following a final symlink), as fanotify reports
   * it in a fid record: its type and bytes, with the file system's id from statfs.
   */
  FileId fileId(String path) throws IOException {
    Pointer statfs = allocate(120);
    if (libc.statfs(path, statfs) != 0) {
      throw error("statfs(" + path + ")");
    }
    long fsid = statfs.getLong(56); // f_fsid, after seven longs
    Pointer handle = allocate(8 + MAX_HANDLE_BYTES);
    handle.putInt(0, MAX_HANDLE_BYTES);
    Pointer mount = allocate(4);
    if (libc.name_to_handle_at(AT_FDCWD, path, handle, mount, 0) != 0) {
      throw error("name_to_handle_at(" + path + ")");
    }
    int length = handle.getInt(0);
    byte[] bytes = new byte[length];
    handle.get(8, bytes, 0, length);
    return new FileId(fsid, handle.getInt(4), bytes);
  }

  /**
   * A file as a fid record names it: the file system's id, the handle's type and its bytes.
   */
  record FileId(long fsid, int type, byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof FileId f && f.fsid == fsid && f.type == type && java.util.Arrays.equals(f.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return (Long.hashCode(fsid) * 31 + type) * 31 + java.util.Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      return "FileId[" + Long.toHexString(fsid) + ", " + type + ", " + bytes.length + " bytes]";
    }

    /**
     * The fid record at {@code at} in an event read from a FAN_REPORT_FID group: header (type, pad,
     * length), fsid, then struct file_handle (length, type, bytes). Null if it is not a FID record.
     */
    static FileId parse(Pointer event, long at, long end) {
      if (at + 20 > end || (event.getByte(at) & 0xff) != FAN_EVENT_INFO_TYPE_FID) {
        return null;
      }
      long fsid = event.getLong(at + 4);
      int length = event.getInt(at + 12);
      int type = event.getInt(at + 16);
      if (length < 0 || length > MAX_HANDLE_BYTES || at + 20 + length > end) {
        return null;
      }
      byte[] bytes = new byte[length];
      event.get(at + 20, bytes, 0, length);
      return new FileId(fsid, type, bytes);
    }
  }
}
