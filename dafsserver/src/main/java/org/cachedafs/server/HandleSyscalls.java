package org.cachedafs.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import jnr.constants.platform.Errno;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;

/**
 * The kernel's file handles through jnr-ffi: {@code name_to_handle_at(2)} names a file by what its
 * file system puts in an NFS file handle (on ext4: inode and generation number), and
 * {@code open_by_handle_at(2)} finds the file again from those bytes, on the export root's file
 * system, wherever it now is and whether or not this process knew it before.
 *
 * <p>The export root stays open for the server's life: {@code open_by_handle_at} takes a descriptor
 * of the file system to look in (an {@code O_PATH} one is refused, EBADF), and a handle is only ever
 * decoded there. Every failure is an {@link Refusal} carrying the errno, so callers can tell a file
 * that is gone (ESTALE) from a kernel that will not decode handles at all (EPERM).
 *
 * <p>{@code struct file_handle} is {@code unsigned int handle_bytes; int handle_type; unsigned char
 * f_handle[]}, in the machine's byte order; the flag values are those of Linux on every architecture
 * the JDK runs on ({@code O_PATH}, {@code O_CLOEXEC} and {@code AT_FDCWD} are the same on all).
 */
final class HandleSyscalls implements AutoCloseable {
  /** The most bytes a file system may put in a handle (the kernel's MAX_HANDLE_SZ). */
  static final int MAX_HANDLE_SZ = 128;
  static final int ESTALE = 116;
  static final int ENOENT = 2;
  static final int EMFILE = 24;
  static final int ENFILE = 23;
  private static final int AT_FDCWD = -100;
  private static final int O_RDONLY = 0;
  private static final int O_PATH = 010000000;
  private static final int O_CLOEXEC = 02000000;
  private static final int HEADER = 8;

  /** The libc functions, bound by jnr-ffi (public only because jnr implements it from another loader). */
  public interface LibC {
    @SaveError
    int name_to_handle_at(int dirfd, @In byte[] path, @In @Out byte[] handle, @Out int[] mountId, int flags);

    @SaveError
    int open_by_handle_at(int mountFd, @In byte[] handle, int flags);

    @SaveError
    int open(@In byte[] path, int flags);

    @SaveError
    int close(int fd);
  }

  /**
   * A kernel handle: its type and the file system's bytes, opaque to everyone but that file system.
   * Passed only between this class and {@link KernelHandles}, which never compare one and never change
   * its array once made, so it is neither copied nor given an equality of its own.
   */
  record KernelHandle(int type, byte[] bytes) {}

  /** A handle and the id of the mount the file was reached through. */
  record Named(KernelHandle handle, int mountId) {}

  /** A call the kernel refused, with its errno. */
  static final class Refusal extends IOException {
    final int errno;

    Refusal(String call, int errno) {
      super(call + " failed: " + describe(errno));
      this.errno = errno;
    }
  }

  private final LibC libc;
  private final Runtime runtime;
  /** Paths go to the kernel in the encoding the JDK gives them, so both name the same bytes. */
  private final Charset pathEncoding;
  private final int rootFd;

  private HandleSyscalls(LibC libc, Path root) throws Refusal {
    this.libc = libc;
    this.runtime = Runtime.getRuntime(libc);
    this.pathEncoding = Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));
    int fd = libc.open(cString(root), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw refusal("open(" + root + ")");
    }
    this.rootFd = fd;
  }

  /**
   * Binds libc and opens the export root, or says why this machine cannot: not Linux, or libc cannot
   * be loaded.
   */
  static HandleSyscalls open(Path root) throws IOException {
    if (!System.getProperty("os.name", "").equals("Linux")) {
      throw new IOException("kernel file handles need Linux, not " + System.getProperty("os.name"));
    }
    LibC libc;
    try {
      libc = LibraryLoader.create(LibC.class).load("c");
    } catch (RuntimeException | LinkageError e) {
      throw new IOException("libc could not be loaded through jnr-ffi: " + e, e);
    }
    return new HandleSyscalls(libc, root);
  }

  /** The handle of the file at {@code p}, not following a final symlink. */
  Named handleOf(Path p) throws Refusal {
    byte[] fh = new byte[HEADER + MAX_HANDLE_SZ];
    ByteBuffer b = ByteBuffer.wrap(fh).order(ByteOrder.nativeOrder());
    b.putInt(0, MAX_HANDLE_SZ);
    int[] mountId = new int[1];
    if (libc.name_to_handle_at(AT_FDCWD, cString(p), fh, mountId, 0) != 0) {
      throw refusal("name_to_handle_at");
    }
    int length = b.getInt(0);
    return new Named(new KernelHandle(b.getInt(4), Arrays.copyOfRange(fh, HEADER, HEADER + length)), mountId[0]);
  }

  /**
   * Where the kernel finds the handle's file now: the path of an {@code O_PATH} descriptor of it, as
   * {@code /proc/self/fd} reads it. That is a path without symlinks, ending in " (deleted)" for a file
   * removed but still open somewhere, and just "/" for a file the kernel knows no name of (a
   * non-directory whose directory entry left its cache: a directory is always reconnected to the root).
   *
   * @throws Refusal ESTALE (or ENOENT) when the file no longer exists
   */
  Path locate(KernelHandle h) throws IOException {
    byte[] bytes = h.bytes();
    byte[] fh = new byte[HEADER + bytes.length];
    ByteBuffer b = ByteBuffer.wrap(fh).order(ByteOrder.nativeOrder());
    b.putInt(0, bytes.length);
    b.putInt(4, h.type());
    System.arraycopy(bytes, 0, fh, HEADER, bytes.length);
    int fd = libc.open_by_handle_at(rootFd, fh, O_PATH | O_CLOEXEC);
    if (fd < 0) {
      throw refusal("open_by_handle_at");
    }
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd));
    } finally {
      libc.close(fd);
    }
  }

  @Override
  public void close() {
    libc.close(rootFd);
  }

  private byte[] cString(Path p) {
    byte[] s = p.toString().getBytes(pathEncoding);
    return Arrays.copyOf(s, s.length + 1);
  }

  private Refusal refusal(String call) {
    return new Refusal(call, runtime.getLastError());
  }

  static String describe(int errno) {
    Errno e = Errno.valueOf(errno);
    return e == null || !e.defined() ? "errno " + errno : e.name() + " (" + e.description() + ")";
  }
}
