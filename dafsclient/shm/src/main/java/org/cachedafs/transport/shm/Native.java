package org.cachedafs.transport.shm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.IntConsumer;
import jnr.constants.platform.Errno;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import jnr.ffi.types.u_int64_t;

/**
 * The few libc calls shm needs, through jnr-ffi: Unix stream sockets with descriptor passing
 * (SCM_RIGHTS), poll, memfd with seals, and an anonymous mapping laid over a closed segment. Every
 * failure is an {@link IOException} that names the call and the errno.
 *
 * <p>The struct layouts (msghdr, cmsghdr, pollfd, sockaddr_un) and flag values are those of Linux on
 * 64-bit x86 and ARM, the only platforms {@link #load} accepts.
 */
final class Native {
  static final int AF_UNIX = 1;
  static final int SOCK_STREAM = 1;
  static final int SOCK_NONBLOCK = 0x800;
  static final int SOCK_CLOEXEC = 0x80000;
  static final int SOL_SOCKET = 1;
  static final int SCM_RIGHTS = 1;
  static final int SO_PEERCRED = 17;
  static final int SO_DOMAIN = 39;
  static final int MSG_DONTWAIT = 0x40;
  static final int MSG_CTRUNC = 0x8;
  static final int MSG_NOSIGNAL = 0x4000;
  static final int MSG_CMSG_CLOEXEC = 0x40000000;
  static final short POLLIN = 0x1;
  static final short POLLOUT = 0x4;
  static final short POLLERR = 0x8;
  static final short POLLHUP = 0x10;
  static final short POLLNVAL = 0x20;
  static final int SHUT_RDWR = 2;
  static final int MFD_CLOEXEC = 1;
  static final int MFD_ALLOW_SEALING = 2;
  static final int F_DUPFD_CLOEXEC = 1030;
  static final int F_ADD_SEALS = 1033;
  static final int F_GET_SEALS = 1034;
  static final int F_SEAL_SEAL = 0x1;
  static final int F_SEAL_SHRINK = 0x2;
  static final int F_SEAL_GROW = 0x4;
  static final int F_SEAL_FUTURE_WRITE = 0x10;
  /** What fstatfs says of a plain memfd (shmem); a hugetlb one says HUGETLBFS_MAGIC instead. */
  static final long TMPFS_MAGIC = 0x01021994L;
  static final int O_RDONLY = 0;
  static final int O_CLOEXEC = 0x80000;
  private static final int PROT_READ = 0x1;
  private static final int PROT_WRITE = 0x2;
  private static final int MAP_PRIVATE = 0x02;
  private static final int MAP_FIXED = 0x10;
  private static final int MAP_ANONYMOUS = 0x20;
  private static final int EAGAIN = 11;
  private static final int EINTR = 4;
  /** sun_path holds 108 bytes, the terminating NUL included. */
  static final int MAX_SOCKET_PATH = 107;
  /** Descriptors one message may carry; more is a violation (the kernel drops the rest: MSG_CTRUNC). */
  static final int MAX_FDS_PER_MESSAGE = 8;

  /** The libc functions, bound by jnr-ffi (public only because jnr implements it from another loader). */
  public interface LibC {
    @SaveError
    int socket(int domain, int type, int protocol);

    @SaveError
    int socketpair(int domain, int type, int protocol, @Out int[] sv);

    @SaveError
    int bind(int fd, @In byte[] address, int length);

    @SaveError
    int listen(int fd, int backlog);

    @SaveError
    int accept4(int fd, Pointer address, Pointer length, int flags);

    @SaveError
    int connect(int fd, @In byte[] address, int length);

    @SaveError
    @ssize_t
    long send(int fd, @In byte[] buffer, @size_t long length, int flags);

    @SaveError
    @ssize_t
    long recv(int fd, Pointer buffer, @size_t long length, int flags);

    @SaveError
    @ssize_t
    long sendmsg(int fd, Pointer message, int flags);

    @SaveError
    @ssize_t
    long recvmsg(int fd, Pointer message, int flags);

    @SaveError
    int poll(Pointer fds, @u_int64_t long count, int timeoutMillis);

    @SaveError
    int shutdown(int fd, int how);

    @SaveError
    int close(int fd);

    @SaveError
    int memfd_create(String name, int flags);

    @SaveError
    int ftruncate(int fd, @off_t long length);

    @SaveError
    int fcntl(int fd, int command, int argument);

    @SaveError
    int open(String path, int flags);

    @SaveError
    int getsockopt(int fd, int level, int name, Pointer value, Pointer length);

    @SaveError
    int fstatfs(int fd, Pointer buffer);

    @SaveError
    Pointer mmap(Pointer address, @size_t long length, int protection, int flags, int fd, @off_t long offset);
  }

  private static final Object LOCK = new Object();
  private static Native instance;
  private static String unavailable;

  private final LibC libc;
  private final Runtime runtime;

  private Native(LibC libc) {
    this.libc = libc;
    this.runtime = Runtime.getRuntime(libc);
  }

  /** The binding, or null if this machine cannot run shm; {@link #unavailableReason} then says why. */
  static Native load() {
    synchronized (LOCK) {
      if (instance == null && unavailable == null) {
        unavailable = probe();
      }
      return instance;
    }
  }

  static String unavailableReason() {
    load();
    synchronized (LOCK) {
      return unavailable == null ? "" : unavailable;
    }
  }

  private static String probe() {
    String os = System.getProperty("os.name", "");
    String arch = System.getProperty("os.arch", "");
    if (!os.equals("Linux")) {
      return "shm needs Linux (memfd, sealing and SCM_RIGHTS), not " + os;
    }
    if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
      return "shm knows the libc struct layouts of x86-64 and aarch64 Linux only, not " + arch;
    }
    Native n;
    try {
      n = new Native(LibraryLoader.create(LibC.class).load("c"));
    } catch (RuntimeException | LinkageError e) {
      return "libc could not be loaded through jnr-ffi: " + e;
    }
    try {
      int fd = n.memfd("dafs-shm-probe");
      try {
        n.ftruncate(fd, 4096);
        n.addSeals(fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
      } finally {
        n.closeQuietly(fd);
      }
      int[] pair = n.socketpair();
      n.closeQuietly(pair[0]);
      n.closeQuietly(pair[1]);
    } catch (IOException | RuntimeException | LinkageError e) {
      return "the kernel refused what shm needs: " + e.getMessage();
    }
    instance = n;
    return null;
  }

  Runtime runtime() {
    return runtime;
  }

  /** The address of a direct buffer's position. */
  long address(ByteBuffer direct) {
    return Pointer.wrap(runtime, direct).address();
  }

  Pointer allocate(int bytes) {
    return Memory.allocateDirect(runtime, bytes, true);
  }

  private IOException error(String call) {
    int errno = runtime.getLastError();
    Errno e = Errno.valueOf(errno);
    return new IOException(call + " failed: " + (e == null || !e.defined() ? "errno " + errno : e.name() + " (" + e.description() + ")"));
  }

  private boolean interrupted() {
    return runtime.getLastError() == EINTR;
  }

  private boolean wouldBlock() {
    return runtime.getLastError() == EAGAIN;
  }

  // -- sockets

  /** A non-blocking stream socket pair, both ends close-on-exec. */
  int[] socketpair() throws IOException {
    int[] sv = new int[2];
    if (libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
      throw error("socketpair");
    }
    return sv;
  }

  int socket(boolean nonBlocking) throws IOException {
    int fd = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
      throw error("socket(AF_UNIX)");
    }
    return fd;
  }

  private static byte[] sockaddr(Path path) {
    byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
    if (p.length == 0 || p.length > MAX_SOCKET_PATH) {
      throw new IllegalArgumentException("a Unix socket path has 1 to " + MAX_SOCKET_PATH + " bytes, not " + p.length + ": " + path);
    }
    byte[] a = new byte[2 + p.length + 1];
    a[0] = (byte) AF_UNIX; // sa_family, little-endian on both platforms
    System.arraycopy(p, 0, a, 2, p.length);
    return a;
  }

  void bind(int fd, Path path) throws IOException {
    byte[] a = sockaddr(path);
    if (libc.bind(fd, a, a.length) != 0) {
      throw error("bind(" + path + ")");
    }
  }

  void listen(int fd, int backlog) throws IOException {
    if (libc.listen(fd, backlog) != 0) {
      throw error("listen");
    }
  }

  /** Waits for a connection; the accepted socket is non-blocking and close-on-exec. */
  int accept(int fd) throws IOException {
    while (true) {
      int c = libc.accept4(fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c >= 0) {
        return c;
      }
      if (!interrupted()) {
        throw error("accept4");
      }
    }
  }

  /** Connects a non-blocking socket; false if the listener's backlog is full for now (EAGAIN). */
  boolean connect(int fd, Path path) throws IOException {
    byte[] a = sockaddr(path);
    while (true) {
      if (libc.connect(fd, a, a.length) == 0) {
        return true;
      }
      if (wouldBlock()) {
        return false;
      }
      if (!interrupted()) {
        throw error("connect(" + path + ")");
      }
    }
  }

  /** Sends {@code bytes} without waiting; returns how many the socket took (0 if it is full). */
  int send(int fd, byte[] bytes, int length) throws IOException {
    while (true) {
      long n = libc.send(fd, bytes, length, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) {
        return (int) n;
      }
      if (wouldBlock()) {
        return 0;
      }
      if (!interrupted()) {
        throw error("send");
      }
    }
  }

  /** Receives without waiting into {@code buffer}; the count, 0 at end of stream, or -1 if nothing is there. */
  int recv(int fd, Pointer buffer, int length) throws IOException {
    while (true) {
      long n = libc.recv(fd, buffer, length, MSG_DONTWAIT);
      if (n >= 0) {
        return (int) n;
      }
      if (wouldBlock()) {
        return -1;
      }
      if (!interrupted()) {
        throw error("recv");
      }
    }
  }

  /**
   * Native memory for one sendmsg or recvmsg at a time: the msghdr, one iovec, room for
   * {@link #MAX_FDS_PER_MESSAGE} descriptors, and {@code capacity} bytes of data. Not thread-safe.
   */
  final class Msg {
    private static final int IOV = 64;
    private static final int CONTROL = 96;
    private static final int CONTROL_SPACE = 16 + 4 * MAX_FDS_PER_MESSAGE;
    private static final int DATA = CONTROL + CONTROL_SPACE;
    private final Pointer memory;
    private final int capacity;

    Msg(int capacity) {
      this.capacity = capacity;
      this.memory = allocate(DATA + capacity);
    }

    int capacity() {
      return capacity;
    }

    void put(int offset, byte[] bytes, int from, int length) {
      memory.put(DATA + offset, bytes, from, length);
    }

    void get(int offset, byte[] bytes, int from, int length) {
      memory.get(DATA + offset, bytes, from, length);
    }

    private void header(int offset, int length, int controlLength) {
      long base = memory.address();
      memory.putLong(0, 0); // msg_name
      memory.putLong(8, 0); // msg_namelen and padding
      memory.putLong(16, base + IOV); // msg_iov
      memory.putLong(24, 1); // msg_iovlen
      memory.putLong(32, controlLength == 0 ? 0 : base + CONTROL); // msg_control
      memory.putLong(40, controlLength); // msg_controllen
      memory.putLong(48, 0); // msg_flags and padding
      memory.putLong(IOV, base + DATA + offset); // iov_base
      memory.putLong(IOV + 8, length); // iov_len
    }

    /**
     * Sends data bytes {@code [offset, offset + length)} with {@code fds} attached, without waiting;
     * returns how many bytes the socket took (0 if it is full).
     */
    int send(int fd, int offset, int length, int... fds) throws IOException {
      if (fds.length > MAX_FDS_PER_MESSAGE) {
        throw new IllegalArgumentException(fds.length + " descriptors in one message");
      }
      int controlLength = 0;
      if (fds.length > 0) {
        controlLength = 16 + ((4 * fds.length + 7) & ~7);
        memory.putLong(CONTROL, 16 + 4L * fds.length); // cmsg_len
        memory.putInt(CONTROL + 8, SOL_SOCKET);
        memory.putInt(CONTROL + 12, SCM_RIGHTS);
        for (int i = 0; i < fds.length; i++) {
          memory.putInt(CONTROL + 16 + 4L * i, fds[i]);
        }
      }
      header(offset, length, controlLength);
      while (true) {
        long n = libc.sendmsg(fd, memory, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
          return (int) n;
        }
        if (wouldBlock()) {
          return 0;
        }
        if (!interrupted()) {
          throw error("sendmsg");
        }
      }
    }

    /**
     * Receives without waiting into data bytes {@code [offset, offset + length)}; each descriptor
     * that came with them goes to {@code fds} (close-on-exec). Returns the count, 0 at end of
     * stream, or -1 if nothing is there.
     *
     * @throws IOException also if the peer sent more descriptors than one message may carry (the
     *     kernel closed those that did not fit)
     */
    int receive(int fd, int offset, int length, IntConsumer fds) throws IOException {
      header(offset, length, CONTROL_SPACE);
      long n;
      while (true) {
        n = libc.recvmsg(fd, memory, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n >= 0) {
          break;
        }
        if (wouldBlock()) {
          return -1;
        }
        if (!interrupted()) {
          throw error("recvmsg");
        }
      }
      long controlLength = memory.getLong(40);
      int flags = memory.getInt(48);
      long at = 0;
      while (at + 16 <= controlLength) {
        long cmsgLength = memory.getLong(CONTROL + at);
        int level = memory.getInt(CONTROL + at + 8);
        int type = memory.getInt(CONTROL + at + 12);
        if (cmsgLength < 16 || at + cmsgLength > controlLength) {
          break;
        }
        if (level == SOL_SOCKET && type == SCM_RIGHTS) {
          for (long i = 16; i + 4 <= cmsgLength; i += 4) {
            fds.accept(memory.getInt(CONTROL + at + i));
          }
        }
        at += (cmsgLength + 7) & ~7L;
      }
      if ((flags & MSG_CTRUNC) != 0) {
        throw new IOException("the peer attached more descriptors than a message may carry (" + MAX_FDS_PER_MESSAGE + ")");
      }
      return (int) n;
    }
  }

  /** pollfd structs for a fixed set of descriptors; one thread at a time. */
  final class PollSet {
    private final Pointer memory;
    private final int count;

    PollSet(int count) {
      this.count = count;
      this.memory = allocate(8 * count);
    }

    void set(int i, int fd, short events) {
      memory.putInt(8L * i, fd);
      memory.putShort(8L * i + 4, events);
      memory.putShort(8L * i + 6, (short) 0);
    }

    short revents(int i) {
      return memory.getShort(8L * i + 6);
    }

    /** Waits up to {@code timeoutMillis} (-1: forever); false on timeout. */
    boolean poll(int timeoutMillis) throws IOException {
      int n = libc.poll(memory, count, timeoutMillis);
      if (n < 0) {
        if (interrupted()) {
          return true; // as if woken: callers look again
        }
        throw error("poll");
      }
      return n > 0;
    }
  }

  void shutdown(int fd) {
    libc.shutdown(fd, SHUT_RDWR);
  }

  void closeQuietly(int fd) {
    if (fd >= 0) {
      libc.close(fd);
    }
  }

  /** The process id of the socket's peer, or -1 if the kernel does not say. */
  int peerPid(int fd) {
    Pointer cred = allocate(16);
    Pointer length = allocate(4);
    length.putInt(0, 12);
    if (libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, length) != 0) {
      return -1;
    }
    return cred.getInt(0);
  }

  /** Whether the descriptor is a Unix domain socket. */
  boolean isUnixSocket(int fd) {
    Pointer value = allocate(4);
    Pointer length = allocate(4);
    length.putInt(0, 4);
    return libc.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, value, length) == 0 && value.getInt(0) == AF_UNIX;
  }

  // -- memory

  /** An anonymous memory file, close-on-exec and sealable; it never has a name in any file system. */
  int memfd(String name) throws IOException {
    int fd = libc.memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
      throw error("memfd_create");
    }
    return fd;
  }

  void ftruncate(int fd, long length) throws IOException {
    if (libc.ftruncate(fd, length) != 0) {
      throw error("ftruncate");
    }
  }

  void addSeals(int fd, int seals) throws IOException {
    if (libc.fcntl(fd, F_ADD_SEALS, seals) != 0) {
      throw error("fcntl(F_ADD_SEALS)");
    }
  }

  /** The magic number of the file system the descriptor's file lives on ({@code statfs.f_type}). */
  long fileSystemType(int fd) throws IOException {
    Pointer statfs = allocate(128);
    if (libc.fstatfs(fd, statfs) != 0) {
      throw error("fstatfs");
    }
    return statfs.getLong(0);
  }

  /** The seals of a memory file; an IOException for anything that cannot be sealed (not a memfd). */
  int seals(int fd) throws IOException {
    int s = libc.fcntl(fd, F_GET_SEALS, 0);
    if (s < 0) {
      throw error("fcntl(F_GET_SEALS)");
    }
    return s;
  }

  int dup(int fd) throws IOException {
    int d = libc.fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) {
      throw error("fcntl(F_DUPFD_CLOEXEC)");
    }
    return d;
  }

  /** A new read-only descriptor of the same file (through /proc, so a new open file description). */
  int reopenReadOnly(int fd) throws IOException {
    int d = libc.open("/proc/self/fd/" + fd, O_RDONLY | O_CLOEXEC);
    if (d < 0) {
      throw error("open(O_RDONLY)");
    }
    return d;
  }

  /**
   * Lays fresh anonymous memory over {@code [address, address + length)}, in place of what was mapped
   * there: the old pages are no longer reachable through this range, yet the range stays mapped, so a
   * stale view reads zeros instead of faulting.
   */
  void replaceWithAnonymous(long address, long length) throws IOException {
    Pointer p = libc.mmap(Pointer.wrap(runtime, address), length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == null || p.address() != address) {
      throw error("mmap(MAP_FIXED)");
    }
  }
}
