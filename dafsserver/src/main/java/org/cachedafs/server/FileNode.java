package org.cachedafs.server;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FileType;

/**
 * The server's record of one file it has handed out a handle for. Its monitor guards the decisions
 * that must be atomic per file: a conflict check against other clients' delegations together with the
 * change it allows, and share modes together with the open they admit.
 *
 * <p>It names the file by its parent
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
  /**
   * Makes the server's reads of the file's bytes atomic with its changes to them, as POSIX asks of
   * read and write (Linux does not give it for buffered I/O: a read racing a write can see part of
   * it): reads and exported-cache fills hold it shared, writes and truncations exclusive, each only
   * around its own file I/O (and the one-sided transfer from the file), never across a wait for a
   * client's memory.
   */
  private final java.util.concurrent.locks.ReentrantReadWriteLock data = new java.util.concurrent.locks.ReentrantReadWriteLock();
  /** Written under the HandleTable's monitor; read without a lock. */
  private volatile FileNode parent;
  /** Written under the HandleTable's monitor; read without a lock. */
  private volatile String name;
  /** Orders node monitors when an operation needs two (rename). */
  final long order;
  private volatile boolean removed;
  private final Path rootPath;

  FileNode(FileHandle handle, Object fileKey, FileType type, FileNode parent, String name, Path rootPath, long order) {
    this.order = order;
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

  /**
   * The file's current path under the export root. Lock-free: a rename racing with it can give a path
   * that no longer names the file, which {@link HandleTable#resolve}'s identity check then catches.
   * (Node monitors are kept for delegation and share-mode decisions; taking them up the parent chain
   * here would let two directory renames deadlock.)
   */
  Path path() {
    FileNode p = parent;
    return p == null ? rootPath : p.path().resolve(name);
  }

  /** The directory the node was last seen in; null for the export root. */
  FileNode parent() {
    return parent;
  }

  /** Called under the HandleTable's monitor. */
  void moveTo(FileNode newParent, String newName) {
    this.name = newName;
    this.parent = newParent;
  }

  /** Whether the node's recorded name is {@code name} in {@code dir}. */
  boolean isNamed(FileNode dir, String name) {
    return parent == dir && name.equals(this.name);
  }

  boolean isUnder(FileNode ancestor) {
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

  java.util.concurrent.locks.ReentrantReadWriteLock data() {
    return data;
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
