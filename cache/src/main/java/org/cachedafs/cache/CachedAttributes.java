package org.cachedafs.cache;

import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.SetAttributes;

/**
 * One file's attributes as this client must see them under a delegation: the server's, as the open
 * or the last setattr returned them, with the modification time this client's own writes gave the
 * file. The size is the file's ({@link FileCache#size}), which writes change block by block.
 *
 * <p>Locking: volatile fields, written under the file's monitor; a reader takes a snapshot.
 */
final class CachedAttributes {
  /** The server's attributes; null when nothing is cached. */
  private volatile FileAttributes fromServer;
  /** When this client's writes last changed the file, in ns since the epoch; 0 if not since {@link #fromServer}. */
  private volatile long localModifyNanos;

  /** Under the file's monitor. */
  void set(FileAttributes a) {
    fromServer = a;
  }

  /** Under the file's monitor: nothing cached any more. */
  void clear() {
    fromServer = null;
  }

  boolean isEmpty() {
    return fromServer == null;
  }

  /** Under the file's monitor: this client changed the file's bytes now. */
  void modified() {
    localModifyNanos = System.currentTimeMillis() * 1_000_000L;
  }

  /**
   * Under the file's monitor: this client changed the file's attributes on the server. Times set
   * explicitly replace those this client's writes gave.
   */
  void setOnServer(FileAttributes after, SetAttributes change) {
    fromServer = after;
    if (change.has(SetAttributes.MTIME) || change.has(SetAttributes.ATIME)) {
      localModifyNanos = 0;
    }
  }

  /** The attributes with {@code size} and this client's modification time, or null if none are cached. */
  FileAttributes view(long size) {
    FileAttributes a = fromServer;
    if (a == null) {
      return null;
    }
    long local = localModifyNanos;
    long mtime = Math.max(a.modifyTimeNanos(), local);
    return new FileAttributes(a.type(), size, a.mode(), a.nlink(), a.uid(), a.gid(), a.accessTimeNanos(), mtime,
        Math.max(a.changeTimeNanos(), local), a.creationTimeNanos(), a.fileId(), Math.max(a.change(), local));
  }
}
