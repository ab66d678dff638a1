package org.cachedafs.cache;

import java.nio.ByteBuffer;
import jnr.constants.platform.Errno;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;

/**
 * mlock(2), munlock(2) and madvise(2) of direct buffers, through JNR: the cache's slabs are kept in
 * RAM and, where the kernel allows, on transparent huge pages.
 */
final class MemoryLock {
  private static final long HUGE_PAGE = 2L << 20;
  private static final int MADV_HUGEPAGE = 14;
  private static final int MADV_COLLAPSE = 25;

  /** The libc calls; jnr passes a direct buffer as its address. */
  public interface LibC {
    @SaveError
    int madvise(Pointer address, @size_t long length, int advice);

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

  /**
   * Asks the kernel to back the buffer's whole 2 MiB pages with huge pages, now (MADV_COLLAPSE, Linux
   * 6.1+) rather than some time later. On a large cache a hit is bound by TLB misses, and the kernel
   * reads its own page cache through a huge-page direct map. Returns null on success, else why not;
   * the cache works either way.
   */
  String adviseHugePages(ByteBuffer buffer) {
    if (libc == null) {
      return unavailable;
    }
    Runtime rt = Runtime.getRuntime(libc);
    long address = Pointer.wrap(rt, buffer).address();
    long start = (address + HUGE_PAGE - 1) & -HUGE_PAGE;
    long end = (address + buffer.capacity()) & -HUGE_PAGE;
    if (end - start < HUGE_PAGE) {
      return "smaller than a huge page";
    }
    for (int advice : new int[] {MADV_HUGEPAGE, MADV_COLLAPSE}) {
      if (libc.madvise(Pointer.wrap(rt, start), end - start, advice) != 0) {
        int errno = rt.getLastError();
        Errno e = Errno.valueOf(errno);
        return (advice == MADV_HUGEPAGE ? "madvise(MADV_HUGEPAGE)" : "madvise(MADV_COLLAPSE)") + " failed with "
            + (e == null ? "errno " + errno : e.name());
      }
    }
    return null;
  }

  void unlock(ByteBuffer buffer) {
    if (libc != null) {
      libc.munlock(buffer, buffer.capacity());
    }
  }
}
