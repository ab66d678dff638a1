package org.cachedafs.protocol;

/**
 * A file's attributes as the server read them. Times are nanoseconds since the epoch. {@code fileId}
 * is the server file's inode number; {@code change} moves whenever the data or attributes change.
 */
public record FileAttributes(
    FileType type,
    long size,
    int mode,
    int nlink,
    int uid,
    int gid,
    long accessTimeNanos,
    long modifyTimeNanos,
    long changeTimeNanos,
    long creationTimeNanos,
    long fileId,
    long change) {

  public boolean isDirectory() {
    return type == FileType.DIRECTORY;
  }

  public boolean isRegularFile() {
    return type == FileType.REGULAR;
  }

  void encode(WireWriter w) {
    w.putByte(type.ordinal())
        .putLong(size)
        .putInt(mode)
        .putInt(nlink)
        .putInt(uid)
        .putInt(gid)
        .putLong(accessTimeNanos)
        .putLong(modifyTimeNanos)
        .putLong(changeTimeNanos)
        .putLong(creationTimeNanos)
        .putLong(fileId)
        .putLong(change);
  }

  static FileAttributes decode(WireReader r) throws MalformedFrameException {
    return new FileAttributes(
        FileType.ofWire(r.getByte()),
        r.getOffset("size"),
        r.getInt(),
        r.getInt(),
        r.getInt(),
        r.getInt(),
        r.getLong(),
        r.getLong(),
        r.getLong(),
        r.getLong(),
        r.getLong(),
        r.getLong());
  }
}
