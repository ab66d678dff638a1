package org.cachedafs.protocol;

/**
 * Which attributes a SETATTR changes. A field applies only when its bit is in {@code mask}; times are
 * nanoseconds since the epoch.
 */
public record SetAttributes(int mask, long size, int mode, long accessTimeNanos, long modifyTimeNanos) {
  public static final int SIZE = 1;
  public static final int MODE = 2;
  public static final int ATIME = 4;
  public static final int MTIME = 8;
  static final int ALL = SIZE | MODE | ATIME | MTIME;

  public static SetAttributes size(long size) {
    return new SetAttributes(SIZE, size, 0, 0, 0);
  }

  public static SetAttributes mode(int mode) {
    return new SetAttributes(MODE, 0, mode, 0, 0);
  }

  public static SetAttributes times(long accessTimeNanos, long modifyTimeNanos) {
    return new SetAttributes(ATIME | MTIME, 0, 0, accessTimeNanos, modifyTimeNanos);
  }

  public boolean has(int bit) {
    return (mask & bit) != 0;
  }

  void encode(WireWriter w) {
    w.putInt(mask).putLong(size).putInt(mode).putLong(accessTimeNanos).putLong(modifyTimeNanos);
  }

  static SetAttributes decode(WireReader r) throws MalformedFrameException {
    int mask = r.getInt();
    if ((mask & ~ALL) != 0) {
      throw new MalformedFrameException("unknown setattr bits " + Integer.toHexString(mask));
    }
    return new SetAttributes(mask, r.getOffset("size"), r.getInt(), r.getLong(), r.getLong());
  }
}
