package org.cachedafs.protocol;

/** STATFS: space on the export's file store, in bytes, and the limits the server applies. */
public record FsStats(long totalBytes, long freeBytes, long usableBytes, int blockSize, int maxName, int maxInline, int maxDirect) {
  void encode(WireWriter w) {
    w.putLong(totalBytes).putLong(freeBytes).putLong(usableBytes).putInt(blockSize).putInt(maxName).putInt(maxInline).putInt(maxDirect);
  }

  static FsStats decode(WireReader r) throws MalformedFrameException {
    return new FsStats(r.getLong(), r.getLong(), r.getLong(), r.getInt(), r.getInt(), r.getInt(), r.getInt());
  }
}
