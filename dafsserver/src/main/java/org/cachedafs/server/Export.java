package org.cachedafs.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileType;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Status;

/**
 * The exported directory and the rules that keep every path inside it: names are single components,
 * {@code ..} and absolute paths are refused, and a symlink is followed only if where it leads is
 * still inside the export root.
 */
final class Export {
  private final Path root;
  private final HandleTable handles;
  private final long maxFileSize;

  /**
   * @param durable how handles are made from the kernel's, {@link DisabledDurableHandles} where not
   * @param volatileReason why handles do not outlive the server, empty when they do
   */
  Export(Path exportDir, long maxFileSize, DurableHandles durable, String volatileReason) throws IOException {
    this.root = exportDir.toRealPath();
    this.maxFileSize = maxFileSize;
    if (!Files.isDirectory(root)) {
      throw new IOException(exportDir + " is not a directory");
    }
    this.handles = new HandleTable(root, durable, volatileReason);
  }

  Path root() {
    return root;
  }

  HandleTable handles() {
    return handles;
  }

  /** The largest size a file may reach through the server (STATFS reports it). */
  long maxFileSize() {
    return maxFileSize;
  }

  /**
   * Refuses a write or a size that would take a file past {@link #maxFileSize}, before anything is
   * written: the kernel would write part of it and then fail, and a client that checked STATFS never
   * asks for more, so all or nothing is the simpler promise.
   */
  void checkFileSize(long offset, long length) throws OpException {
    if (offset > maxFileSize - length) {
      throw new OpException(Status.FBIG, "the file would pass the server's largest file size, " + maxFileSize + " bytes");
    }
  }

  /** A directory node from a handle; NOTDIR if it is something else. */
  FileNode directory(org.cachedafs.protocol.FileHandle h) throws OpException {
    FileNode n = handles.resolve(h);
    if (!n.isDirectory()) {
      throw new OpException(Status.NOTDIR, "not a directory");
    }
    return n;
  }

  /** Checks one component a client wants to create, remove or rename. */
  static void checkName(String name) throws OpException {
    if (name.isEmpty()) {
      throw new OpException(Status.NOENT, "empty name");
    }
    if (name.equals(".") || name.equals("..")) {
      throw new OpException(Status.INVAL, "'.' and '..' cannot be created, removed or renamed");
    }
    if (name.indexOf('/') >= 0) {
      throw new OpException(Status.INVAL, "a name may not contain '/'");
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_NAME) {
      throw new OpException(Status.NAMETOOLONG, "name longer than " + Limits.MAX_NAME + " bytes");
    }
  }

  /**
   * Resolves a relative path under {@code dir}, following symlinks that stay inside the export.
   * Returns the node of what it names.
   */
  FileNode lookup(FileNode dir, String path) throws OpException {
    if (path.startsWith("/")) {
      throw new OpException(Status.ACCES, "absolute paths are refused");
    }
    FileNode current = dir;
    for (String component : path.split("/")) {
      if (component.isEmpty() || component.equals(".")) {
        continue;
      }
      if (component.equals("..")) {
        throw new OpException(Status.ACCES, "'..' is refused: paths stay inside the export");
      }
      if (component.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_NAME) {
        throw new OpException(Status.NAMETOOLONG, "component longer than " + Limits.MAX_NAME + " bytes");
      }
      if (!current.isDirectory()) {
        throw new OpException(Status.NOTDIR, "a component on the way is not a directory");
      }
      current = step(current, component);
    }
    return current;
  }

  /** The node for {@code name} in {@code dir}; a symlink is replaced by its confined target. */
  FileNode step(FileNode dir, String name) throws OpException {
    Path p = dir.path().resolve(name);
    try {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!a.isSymbolicLink()) {
        return handles.child(dir, name, a);
      }
      return nodeOf(confine(p));
    } catch (IOException e) {
      throw IoErrors.toOp(e);
    }
  }

  /** The real path behind {@code p}, refused unless it is inside the export. */
  Path confine(Path p) throws OpException {
    Path real;
    try {
      real = p.toRealPath();
    } catch (IOException e) {
      throw IoErrors.toOp(e);
    }
    if (!real.startsWith(root)) {
      throw new OpException(Status.ACCES, "'" + root.relativize(p) + "' leads outside the export");
    }
    return real;
  }

  /** The node for a real path inside the export, built from the root down. */
  FileNode nodeOf(Path real) throws OpException {
    return handles.nodeAt(real);
  }

  /** A file's attributes, not following a final symlink. */
  static FileAttributes attributes(Path p) throws IOException {
    Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
    FileType type;
    if (Boolean.TRUE.equals(a.get("isSymbolicLink"))) {
      type = FileType.SYMLINK;
    } else if (Boolean.TRUE.equals(a.get("isDirectory"))) {
      type = FileType.DIRECTORY;
    } else if (Boolean.TRUE.equals(a.get("isRegularFile"))) {
      type = FileType.REGULAR;
    } else {
      type = FileType.OTHER;
    }
    long ctime = nanos(a.get("ctime"));
    return new FileAttributes(
        type,
        (Long) a.get("size"),
        (Integer) a.get("mode"),
        (Integer) a.get("nlink"),
        (Integer) a.get("uid"),
        (Integer) a.get("gid"),
        nanos(a.get("lastAccessTime")),
        nanos(a.get("lastModifiedTime")),
        ctime,
        nanos(a.get("creationTime")),
        (Long) a.get("ino"),
        ctime);
  }

  static long nanos(Object fileTime) {
    return ((FileTime) fileTime).to(TimeUnit.NANOSECONDS);
  }
}
