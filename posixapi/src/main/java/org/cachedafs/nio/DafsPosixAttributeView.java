package org.cachedafs.nio;

import java.io.IOException;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.Map;
import java.util.Set;
import org.cachedafs.protocol.SetAttributes;

/** The posix view of one path: the basic view's times, and permissions; owners cannot be changed. */
final class DafsPosixAttributeView implements PosixFileAttributeView {
  private final DafsFileSystem fs;
  private final DafsPath path;
  private final DafsBasicAttributeView basic;

  DafsPosixAttributeView(DafsFileSystem fs, DafsPath path) {
    this.fs = fs;
    this.path = path;
    this.basic = new DafsBasicAttributeView(fs, path);
  }

  @Override
  public String name() {
    return "posix";
  }

  @Override
  public PosixFileAttributes readAttributes() throws IOException {
    return new DafsFileAttributes(fs.attributes(path));
  }

  @Override
  public void setTimes(FileTime lastModifiedTime, FileTime lastAccessTime, FileTime createTime) throws IOException {
    basic.setTimes(lastModifiedTime, lastAccessTime, createTime);
  }

  @Override
  public void setPermissions(Set<PosixFilePermission> perms) throws IOException {
    DafsBasicAttributeView.set(fs, path, SetAttributes.mode(DafsFileAttributes.mode(perms)));
  }

  /** The view's attributes by name: the basic view's, and permissions, owner and group. */
  static Map<String, Object> all(DafsFileAttributes a) {
    Map<String, Object> all = DafsBasicAttributeView.all(a);
    all.put("permissions", a.permissions());
    all.put("owner", a.owner());
    all.put("group", a.group());
    return all;
  }

  /** Sets the attribute {@code name}: permissions here, the times through the basic view. */
  @SuppressWarnings("unchecked")
  void set(String name, Object value, String attribute) throws IOException {
    if (name.equals("permissions")) {
      setPermissions((Set<PosixFilePermission>) value);
    } else {
      basic.set(name, value, attribute);
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
