package org.cachedafs.protocol;

/**
 * A byte range for the byte-range locks. As in POSIX {@code fcntl}, a length of 0 means "to the end of
 * the file and beyond".
 */
public record LockRange(long offset, long length, boolean exclusive) {
  public LockRange {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("negative lock range: " + offset + "+" + length);
    }
  }

  /** The first byte past the range, saturating at {@link Long#MAX_VALUE}. */
  public long end() {
    if (length == 0 || offset > Long.MAX_VALUE - length) {
      return Long.MAX_VALUE;
    }
    return offset + length;
  }

  public boolean overlaps(LockRange o) {
    return offset < o.end() && o.offset < end();
  }

  void encode(WireWriter w) {
    w.putLong(offset).putLong(length).putBoolean(exclusive);
  }

  static LockRange decode(WireReader r) throws MalformedFrameException {
    return new LockRange(r.getOffset("lock offset"), r.getOffset("lock length"), r.getBoolean());
  }
}
