package org.cachedafs.nio;

import java.io.IOException;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.SetAttributes;

/** The basic and posix views of one path; the file is looked up when a method is called, not before. */
final class DafsAttributeView implements PosixFileAttributeView {
  private final DafsFileSystem fs;
  private final DafsPath path;
  private final String name;

  DafsAttributeView(DafsFileSystem fs, DafsPath path, String name) {
    this.fs = fs;
    this.path = path;
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public PosixFileAttributes readAttributes() throws IOException {
    return new DafsFileAttributes(fs.attributes(path));
  }

  @Override
  public void setTimes(FileTime lastModifiedTime, FileTime lastAccessTime, FileTime createTime) throws IOException {
    if (lastModifiedTime == null && lastAccessTime == null) {
      return; // creation time cannot be set on the server's file system; it is ignored, as on Linux
    }
    FileAttributes now = fs.attributes(path);
    long m = lastModifiedTime == null ? now.modifyTimeNanos() : lastModifiedTime.to(TimeUnit.NANOSECONDS);
    long a = lastAccessTime == null ? now.accessTimeNanos() : lastAccessTime.to(TimeUnit.NANOSECONDS);
    set(SetAttributes.times(a, m));
  }

  @Override
  public void setPermissions(Set<PosixFilePermission> perms) throws IOException {
    set(SetAttributes.mode(DafsFileAttributes.mode(perms)));
  }

  private void set(SetAttributes change) throws IOException {
    try {
      fs.cache.setattr(fs.handle(path), change);
    } catch (IOException e) {
      throw NioErrors.of(e, path);
    }
  }

  @Override
  public UserPrincipal getOwner() throws IOException {
    return readAttributes().owner();
  }

  @Override
  public void setOwner(UserPrincipal owner) {
    throw new UnsupportedOperationException("dafs does not change owners");
  }

  @Override
  public void setGroup(GroupPrincipal group) {
    throw new UnsupportedOperationException("dafs does not change groups");
  }
}
