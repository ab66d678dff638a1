package org.cachedafs.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Status;

/**
 * Durable handles built from the kernel's file handle, as NFS-Ganesha's VFS back end builds its own:
 *
 * <pre>
 *   u8   format       1
 *   i32  type         the kernel's handle_type (big-endian)
 *   ...  f_handle     the file system's bytes, 1 to 128 (ext4: 8, inode and generation number)
 *   16   seal         HMAC-SHA256 under the handle key, truncated ({@link HandleSeal})
 * </pre>
 *
 * <p>The kernel's handle names the file by identity, not by path: it still finds the file after a
 * rename (by the server or behind its back) and after a restart, and a file removed and its inode
 * reused by another gets a new generation number, so the old handle does not find the new file. The
 * seal makes the handle unforgeable: {@code open_by_handle_at} would otherwise open any file of the
 * file system for whoever can guess an inode and generation number. Whatever it finds, the
 * {@link HandleTable} still checks it is inside the export.
 *
 * <p>Only files on the export root's own mount get one: a file system mounted below the root is
 * reached through another mount, where this server never decodes handles ({@code open_by_handle_at}
 * decodes on the root's), so its files get random handles, as do files whose handle would not fit.
 */
final class KernelHandles implements DurableHandles {
  static final byte FORMAT = 1;
  private static final int HEADER = 1 + 4;
  /** The largest kernel handle that fits in a protocol handle with its header and seal. */
  private static final int MAX_KERNEL_BYTES = Limits.MAX_HANDLE_BYTES - HEADER - HandleSeal.BYTES;

  /** The kernel will not make or open handles for this export: the reason, for the log and the stats. */
  static final class Unavailable extends Exception {
    Unavailable(String reason, Throwable cause) {
      super(reason, cause);
    }
  }

  private final HandleSyscalls kernel;
  private final HandleSeal seal;
  private final int rootMount;

  private KernelHandles(HandleSyscalls kernel, HandleSeal seal, int rootMount) {
    this.kernel = kernel;
    this.seal = seal;
    this.rootMount = rootMount;
  }

  /**
   * Durable handles for the export at {@code root} (its canonical path), sealed under the key in
   * {@code stateDir} (made there at the first start).
   *
   * @throws Unavailable if the kernel will not make or open handles here: not Linux, a file system
   *     without them (EOPNOTSUPP), a process without CAP_DAC_READ_SEARCH (EPERM)
   * @throws IOException if the key cannot be read or made: the server must not start with handles
   *     that could not be checked after a restart
   */
  static KernelHandles open(Path root, Path stateDir, SecureRandom random) throws Unavailable, IOException {
    HandleSyscalls kernel;
    try {
      kernel = HandleSyscalls.open(root);
    } catch (IOException e) {
      throw new Unavailable(e.getMessage(), e);
    }
    try {
      HandleSyscalls.Named r = probe(kernel, root);
      HandleSeal seal = new HandleSeal(HandleKey.loadOrCreate(stateDir, random), identity(r.handle()));
      return new KernelHandles(kernel, seal, r.mountId());
    } catch (Unavailable | IOException | RuntimeException e) {
      kernel.close();
      throw e;
    }
  }

  /** The root's handle, once the kernel has shown it makes handles here and opens them again. */
  private static HandleSyscalls.Named probe(HandleSyscalls kernel, Path root) throws Unavailable {
    HandleSyscalls.Named r;
    try {
      r = kernel.handleOf(root);
    } catch (HandleSyscalls.Refusal e) {
      throw new Unavailable(e.getMessage() + ": the export's file system (" + fileSystemType(root) + ") makes no file handles", e);
    }
    try {
      Path found = kernel.locate(r.handle());
      if (!found.equals(root)) {
        throw new Unavailable("open_by_handle_at found the export root at " + found + ", not at " + root, null);
      }
    } catch (HandleSyscalls.Refusal e) {
      String why = e.errno == 1 ? ": opening files by handle needs CAP_DAC_READ_SEARCH (run the server as root)" : "";
      throw new Unavailable(e.getMessage() + why, e);
    } catch (IOException e) {
      throw new Unavailable("the export root's handle could not be resolved: " + e, e);
    }
    if (r.handle().bytes().length > MAX_KERNEL_BYTES) {
      throw new Unavailable("the export's file system makes handles of " + r.handle().bytes().length + " bytes, more than the "
          + MAX_KERNEL_BYTES + " that fit in a protocol handle", null);
    }
    return r;
  }

  private static String fileSystemType(Path root) {
    try {
      return Files.getFileStore(root).type();
    } catch (IOException e) {
      return "unknown type";
    }
  }

  /** What the seal binds handles to: the export root's own handle, type and bytes. */
  private static byte[] identity(HandleSyscalls.KernelHandle root) {
    byte[] b = root.bytes();
    return ByteBuffer.allocate(4 + b.length).putInt(root.type()).put(b).array();
  }

  @Override
  public FileHandle handleOf(Path p) {
    HandleSyscalls.Named n;
    try {
      n = kernel.handleOf(p);
    } catch (HandleSyscalls.Refusal e) {
      return null; // gone meanwhile, or a file system without handles mounted below the root
    }
    byte[] fh = n.handle().bytes();
    if (n.mountId() != rootMount || fh.length > MAX_KERNEL_BYTES) {
      return null;
    }
    byte[] h = new byte[HEADER + fh.length + HandleSeal.BYTES];
    ByteBuffer.wrap(h).put(FORMAT).putInt(n.handle().type()).put(fh);
    System.arraycopy(seal.seal(h, HEADER + fh.length), 0, h, HEADER + fh.length, HandleSeal.BYTES);
    return new FileHandle(h);
  }

  @Override
  public boolean isDurable(FileHandle h) {
    byte[] b = h.bytes();
    return b.length > HEADER + HandleSeal.BYTES && b[0] == FORMAT;
  }

  @Override
  public boolean sealed(FileHandle h) {
    return isDurable(h) && seal.verifies(h.bytes());
  }

  @Override
  public Path locate(FileHandle h) throws OpException {
    byte[] b = h.bytes();
    HandleSyscalls.KernelHandle k = new HandleSyscalls.KernelHandle(ByteBuffer.wrap(b).getInt(1),
        Arrays.copyOfRange(b, HEADER, b.length - HandleSeal.BYTES));
    try {
      return kernel.locate(k);
    } catch (HandleSyscalls.Refusal e) {
      if (e.errno == HandleSyscalls.ESTALE || e.errno == HandleSyscalls.ENOENT) {
        throw new OpException(Status.STALE, "the file was removed");
      }
      if (e.errno == HandleSyscalls.EMFILE || e.errno == HandleSyscalls.ENFILE) {
        throw new OpException(Status.RESOURCE, "the server is out of descriptors: " + e.getMessage());
      }
      throw new OpException(Status.IO, "the kernel could not open the file by its handle: " + e.getMessage());
    } catch (IOException e) {
      throw IoErrors.toOp(e);
    }
  }

  @Override
  public void close() {
    kernel.close();
  }
}
