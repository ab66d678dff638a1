package org.cachedafs.nio;

import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileType;

/** A DAFS file's attributes as the JDK's basic and posix views see them. */
record DafsFileAttributes(FileAttributes a) implements PosixFileAttributes {
  /** A user or group known only by its number, as the server reports it. */
  record Principal(String name, boolean group) implements UserPrincipal, GroupPrincipal {
    @Override
    public String getName() {
      return name;
    }
  }

  @Override
  public FileTime lastModifiedTime() {
    return FileTime.from(a.modifyTimeNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public FileTime lastAccessTime() {
    return FileTime.from(a.accessTimeNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public FileTime creationTime() {
    return FileTime.from(a.creationTimeNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public boolean isRegularFile() {
    return a.type() == FileType.REGULAR;
  }

  @Override
  public boolean isDirectory() {
    return a.type() == FileType.DIRECTORY;
  }

  @Override
  public boolean isSymbolicLink() {
    return a.type() == FileType.SYMLINK;
  }

  @Override
  public boolean isOther() {
    return a.type() == FileType.OTHER;
  }

  @Override
  public long size() {
    return a.size();
  }

  @Override
  public Object fileKey() {
    return a.fileId();
  }

  @Override
  public UserPrincipal owner() {
    return new Principal(Integer.toString(a.uid()), false);
  }

  @Override
  public GroupPrincipal group() {
    return new Principal(Integer.toString(a.gid()), true);
  }

  @Override
  public Set<PosixFilePermission> permissions() {
    return permissions(a.mode());
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE};
    for (int i = 0; i < 9; i++) {
      if ((mode & (1 << (8 - i))) != 0) {
        set.add(order[i]);
      }
    }
    return set;
  }

  static int mode(Set<PosixFilePermission> perms) {
    int m = 0;
    for (PosixFilePermission p : perms) {
      m |= 1 << (8 - p.ordinal());
    }
    return m;
  }

  /** The permissions {@code attrs} ask a new file or directory to have, or {@code otherwise}. */
  static int permissions(FileAttribute<?>[] attrs, int otherwise) {
    for (FileAttribute<?> a : attrs) {
      if (a.name().equals("posix:permissions") || a.name().equals("unix:permissions")) {
        @SuppressWarnings("unchecked")
        Set<PosixFilePermission> perms = (Set<PosixFilePermission>) a.value();
        return DafsFileAttributes.mode(perms);
      }
      throw new UnsupportedOperationException("attribute " + a.name() + " cannot be set when creating a dafs file");
    }
    return otherwise;
  }
}
