package org.cachedafs.nio;

import java.io.IOException;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.SetAttributes;

/** The basic view of one path; the file is looked up when a method is called, not before. */
final class DafsBasicAttributeView implements BasicFileAttributeView {
  private final DafsFileSystem fs;
  private final DafsPath path;

  DafsBasicAttributeView(DafsFileSystem fs, DafsPath path) {
    this.fs = fs;
    this.path = path;
  }

  @Override
  public String name() {
    return "basic";
  }

  @Override
  public BasicFileAttributes readAttributes() throws IOException {
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
    set(fs, path, SetAttributes.times(a, m));
  }

  /** The view's attributes by name, as {@code Files.readAttributes(path, "basic:*")} returns them. */
  static Map<String, Object> all(DafsFileAttributes a) {
    Map<String, Object> all = new HashMap<>();
    all.put("lastModifiedTime", a.lastModifiedTime());
    all.put("lastAccessTime", a.lastAccessTime());
    all.put("creationTime", a.creationTime());
    all.put("size", a.size());
    all.put("isRegularFile", a.isRegularFile());
    all.put("isDirectory", a.isDirectory());
    all.put("isSymbolicLink", a.isSymbolicLink());
    all.put("isOther", a.isOther());
    all.put("fileKey", a.fileKey());
    return all;
  }

  /** Sets the attribute {@code name} ({@code attribute} as the caller wrote it, view and all). */
  void set(String name, Object value, String attribute) throws IOException {
    switch (name) {
      case "lastModifiedTime" -> setTimes((FileTime) value, null, null);
      case "lastAccessTime" -> setTimes(null, (FileTime) value, null);
      case "creationTime" -> setTimes(null, null, (FileTime) value);
      default -> throw new UnsupportedOperationException("attribute " + attribute + " cannot be set");
    }
  }

  /** Sets attributes of {@code path} through the cache, a failure reported against the path. */
  static void set(DafsFileSystem fs, DafsPath path, SetAttributes change) throws IOException {
    try {
      fs.namespace.setattr(path.relativeToRoot(), change);
    } catch (IOException e) {
      throw NioErrors.of(e, path);
    }
  }
}
