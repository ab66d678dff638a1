package org.cachedafs.posix;

/**
 * What {@code stat(2)} tells about a file. {@code mode} holds the file type bits ({@code S_IFMT}) and the
 * permission bits; times are nanoseconds since the epoch.
 */
public record Stat(int mode, long size, int nlink, int uid, int gid, long accessTimeNanos, long modifyTimeNanos, long changeTimeNanos, long ino) {
  public static final int S_IFMT = 0170000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFLNK = 0120000;

  public boolean isDirectory() {
    return (mode & S_IFMT) == S_IFDIR;
  }

  public boolean isRegularFile() {
    return (mode & S_IFMT) == S_IFREG;
  }
}
