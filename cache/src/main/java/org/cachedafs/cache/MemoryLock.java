package org.cachedafs.cache;

import java.nio.ByteBuffer;
import jnr.constants.platform.Errno;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;

/** mlock(2) and munlock(2) of direct buffers, through JNR. */
final class MemoryLock {
  /** The two libc calls; jnr passes a direct buffer as its address. */
  public interface LibC {
    @SaveError
    int mlock(@In ByteBuffer address, @size_t long length);

    @SaveError
    int munlock(@In ByteBuffer address, @size_t long length);
  }

  private final LibC libc;
  private final String unavailable;

  private MemoryLock(LibC libc, String unavailable) {
    this.libc = libc;
    this.unavailable = unavailable;
  }

  static MemoryLock load() {
    try {
      return new MemoryLock(LibraryLoader.create(LibC.class).load("c"), null);
    } catch (RuntimeException | LinkageError e) {
      return new MemoryLock(null, "libc could not be loaded through JNR: " + e);
    }
  }

  /** Locks the buffer's pages in RAM; returns null on success, else why not. */
  String lock(ByteBuffer buffer) {
    if (libc == null) {
      return unavailable;
    }
    if (libc.mlock(buffer, buffer.capacity()) == 0) {
      return null;
    }
    int errno = Runtime.getRuntime(libc).getLastError();
    Errno e = Errno.valueOf(errno);
    return "mlock failed with " + (e == null ? "errno " + errno : e.name() + " (" + e.description() + ")")
        + "; raise RLIMIT_MEMLOCK (ulimit -l) or run with CAP_IPC_LOCK to lock the cache in RAM";
  }

  void unlock(ByteBuffer buffer) {
    if (libc != null) {
      libc.munlock(buffer, buffer.capacity());
    }
  }
}
