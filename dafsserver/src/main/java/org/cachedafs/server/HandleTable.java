package org.cachedafs.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FileType;
import org.cachedafs.protocol.Status;

/**
 * Maps handles to files. A handle is {@link #HANDLE_BYTES} bytes from a {@link SecureRandom},
 * so a client cannot forge one; it lives as long as the server process. One node per file identity,
 * so two paths to the same file (hard links, a rename) give the same handle.
 */
final class HandleTable {
  static final int HANDLE_BYTES = 16;
  private final SecureRandom random = new SecureRandom();
  private final Map<FileHandle, FileNode> byHandle = new ConcurrentHashMap<>();
  /** Guarded by this. */
  private final Map<Object, FileNode> byFileKey = new HashMap<>();
  private final Path rootPath;
  private final FileNode root;
  private long nextOrder;

  HandleTable(Path rootPath) throws IOException {
    this.rootPath = rootPath;
    BasicFileAttributes a = Files.readAttributes(rootPath, BasicFileAttributes.class);
    this.root = newNode(a.fileKey(), FileType.DIRECTORY, null, null);
  }

  FileNode root() {
    return root;
  }

  /**
   * The live node for a handle; STALE if the server never gave it out (forged), if the file was
   * removed, or if its path now names a different file.
   */
  FileNode resolve(FileHandle h) throws OpException {
    FileNode n = byHandle.get(h);
    if (n == null) {
      throw new OpException(Status.STALE, "unknown file handle");
    }
    if (n.isRemoved()) {
      throw new OpException(Status.STALE, "the file was removed");
    }
    try {
      Object key = Files.readAttributes(n.path(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      if (!Objects.equals(key, n.fileKey())) {
        forget(n);
        throw new OpException(Status.STALE, "the file was replaced outside the server");
      }
    } catch (IOException e) {
      forget(n);
      throw new OpException(Status.STALE, "the file is gone: " + e.getMessage());
    }
    return n;
  }

  /** The node for a node-less open, when the file may already be unlinked; null if unknown. */
  FileNode peek(FileHandle h) {
    return byHandle.get(h);
  }

  /**
   * The node for the entry {@code name} of {@code dir}, whose attributes were just read. A node found
   * by its file key under another name was renamed there, unless it is now another kind of file: then
   * the old file was removed outside the server and the file system gave its inode number to this
   * one, and the old node is forgotten (its handle goes stale) rather than handed out for the new file.
   */
  synchronized FileNode child(FileNode dir, String name, BasicFileAttributes a) {
    Object key = a.fileKey();
    FileNode n = byFileKey.get(key);
    if (n != null && !n.isRemoved() && n != root && n.type() != typeOf(a)) {
      forget(n);
      n = null;
    }
    if (n != null && !n.isRemoved()) {
      if (n != root) {
        n.moveTo(dir, name);
      }
      return n;
    }
    return newNode(key, typeOf(a), dir, name);
  }

  /** Guarded by this (or called from the constructor). */
  private FileNode newNode(Object key, FileType type, FileNode dir, String name) {
    while (true) {
      byte[] b = new byte[HANDLE_BYTES];
      random.nextBytes(b);
      FileHandle h = new FileHandle(b);
      FileNode n = new FileNode(h, key, type, dir, name, rootPath, nextOrder++);
      if (byHandle.putIfAbsent(h, n) == null) {
        byFileKey.put(key, n);
        return n;
      }
    }
  }

  /** The node of an entry the server is about to change, if it has one. */
  synchronized FileNode existing(Object fileKey) {
    return byFileKey.get(fileKey);
  }

  synchronized void moved(FileNode n, FileNode newParent, String newName) {
    n.moveTo(newParent, newName);
  }

  /** Told of every node forgotten (the exported cache drops the file's blocks). Set once at start. */
  private volatile java.util.function.Consumer<FileNode> onForget = n -> { };

  void onForget(java.util.function.Consumer<FileNode> listener) {
    this.onForget = listener;
  }

  /** The file is gone: its handle goes stale; open states keep their channels. */
  synchronized void forget(FileNode n) {
    n.markRemoved();
    onForget.accept(n); // after: a fill starting now sees the node removed
    byFileKey.remove(n.fileKey(), n);
    if (n.opens().isEmpty()) {
      byHandle.remove(n.handle(), n);
    }
  }

  /** The last open of a removed file closed: drop its handle too. */
  void released(FileNode n) {
    if (n.isRemoved() && n.opens().isEmpty()) {
      byHandle.remove(n.handle(), n);
    }
  }

  static FileType typeOf(BasicFileAttributes a) {
    if (a.isSymbolicLink()) {
      return FileType.SYMLINK;
    }
    if (a.isDirectory()) {
      return FileType.DIRECTORY;
    }
    if (a.isRegularFile()) {
      return FileType.REGULAR;
    }
    return FileType.OTHER;
  }
}
