package org.cachedafs.fuse;

import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileType;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Timespec;

/** A server's {@link FileAttributes} written into the kernel's {@code struct stat}. */
final class Attributes {
  private Attributes() {}

  /** What {@code st_blocks} counts in: the server does not say what a file occupies, so its size stands in. */
  private static final long STAT_BLOCK = 512;
  /** The I/O size the kernel is told to prefer: the largest write the mount takes in one request. */
  static final int PREFERRED_IO = 128 << 10;

  static void fill(FileAttributes a, FileStat st) {
    st.st_mode.set(mode(a));
    st.st_size.set(a.size());
    st.st_nlink.set(a.nlink());
    st.st_uid.set(a.uid());
    st.st_gid.set(a.gid());
    st.st_ino.set(a.fileId());
    st.st_blksize.set(PREFERRED_IO);
    st.st_blocks.set((a.size() + STAT_BLOCK - 1) / STAT_BLOCK);
    time(st.st_atim, a.accessTimeNanos());
    time(st.st_mtim, a.modifyTimeNanos());
    time(st.st_ctim, a.changeTimeNanos());
  }

  /**
   * The type and permission bits. The server sends the whole {@code st_mode}; the type is taken from
   * {@link FileType} when the mode carries none. A symlink never reaches here: the server's lookups
   * follow links (refusing those that leave the export), so the kernel only ever sees their targets.
   */
  static int mode(FileAttributes a) {
    if ((a.mode() & FileStat.S_IFMT) != 0) {
      return a.mode();
    }
    return typeBits(a.type()) | (a.mode() & 07777);
  }

  /** The {@code S_IF*} bits of a type; 0 (unknown, so the kernel asks) for one it cannot tell. */
  static int typeBits(FileType t) {
    return switch (t) {
      case REGULAR -> FileStat.S_IFREG;
      case DIRECTORY -> FileStat.S_IFDIR;
      default -> 0;
    };
  }

  private static void time(Timespec t, long nanos) {
    t.tv_sec.set(Math.floorDiv(nanos, 1_000_000_000L));
    t.tv_nsec.set(Math.floorMod(nanos, 1_000_000_000L));
  }
}
