package org.cachedafs.server;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FileType;

/**
 * The server's record of one file it has handed out a handle for. It names the file by its parent
 * node and its name, so renaming a directory moves every node below it at once, and it remembers
 * the file's identity (device and inode) so that a handle whose file was replaced behind the server's
 * back is detected as stale rather than silently pointing at another file.
 */
final class FileNode {
  private final FileHandle handle;
  private final Object fileKey;
  private final FileType type;
  private final ByteRangeLocks locks = new ByteRangeLocks();
  private final Set<OpenState> opens = ConcurrentHashMap.newKeySet();
  /** Guarded by the HandleTable. */
  private FileNode parent;
  /** Guarded by the HandleTable. */
  private String name;
  private volatile boolean removed;
  private final Path rootPath;

  FileNode(FileHandle handle, Object fileKey, FileType type, FileNode parent, String name, Path rootPath) {
    this.handle = handle;
    this.fileKey = fileKey;
    this.type = type;
    this.parent = parent;
    this.name = name;
    this.rootPath = rootPath;
  }

  FileHandle handle() {
    return handle;
  }

  Object fileKey() {
    return fileKey;
  }

  FileType type() {
    return type;
  }

  boolean isDirectory() {
    return type == FileType.DIRECTORY;
  }

  /** The file's current path under the export root. */
  synchronized Path path() {
    return parent == null ? rootPath : parent.path().resolve(name);
  }

  synchronized void moveTo(FileNode newParent, String newName) {
    this.parent = newParent;
    this.name = newName;
  }

  synchronized boolean isUnder(FileNode ancestor) {
    for (FileNode n = this; n != null; n = n.parent) {
      if (n == ancestor) {
        return true;
      }
    }
    return false;
  }

  boolean isRemoved() {
    return removed;
  }

  void markRemoved() {
    removed = true;
  }

  ByteRangeLocks locks() {
    return locks;
  }

  Set<OpenState> opens() {
    return opens;
  }

  @Override
  public String toString() {
    return "FileNode[" + path() + (removed ? ", removed" : "") + "]";
  }
}
