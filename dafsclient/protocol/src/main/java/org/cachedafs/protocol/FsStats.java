package org.cachedafs.protocol;

/**
 * STATFS: space on the export's file store, in bytes, and the limits the server applies.
 * {@code maxFileSize} is the largest size a file may reach on the server (its own limit or its
 * process's {@code RLIMIT_FSIZE}, whichever is smaller): a write ending past it is refused with
 * {@link Status#FBIG}, so a client checks it before it accepts the bytes.
 */
public record FsStats(long totalBytes, long freeBytes, long usableBytes, int blockSize, int maxName, int maxInline, int maxDirect, long maxFileSize) {
  void encode(WireWriter w) {
    w.putLong(totalBytes).putLong(freeBytes).putLong(usableBytes).putInt(blockSize).putInt(maxName).putInt(maxInline).putInt(maxDirect)
        .putLong(maxFileSize);
  }

  static FsStats decode(WireReader r) throws MalformedFrameException {
    return new FsStats(r.getLong(), r.getLong(), r.getLong(), r.getInt(), r.getInt(), r.getInt(), r.getInt(), r.getOffset("maxFileSize"));
  }
}
