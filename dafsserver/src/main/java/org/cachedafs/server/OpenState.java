package org.cachedafs.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.cachedafs.protocol.Status;

/**
 * One open of a file by one session. Removing the file through the server leaves the open usable,
 * as unlink(2) does.
 *
 * <p>Its descriptor is held through the {@link OpenBudget}: while idle the open may be parked (its
 * channel closed, the descriptor given back) and it reopens the file by its path at the next use.
 * Every use of the channel is bracketed by {@link #use} and {@link #done}, so a channel in use is
 * never parked under an operation. Locks are the server's own (not the kernel's), so parking loses
 * none. Before a file is removed or replaced through the server its parked opens reopen
 * ({@link #unpark}), so unlink semantics hold; a file removed behind the server's back while parked
 * reads as STALE.
 *
 * <p>When a delegation on the file is revoked from the session, its opens of the file are marked
 * revoked: every later read or write through them fails with DELEG_REVOKED, so nothing the old
 * holder flushes late can overwrite what the new owner wrote. Closing still works.
 */
final class OpenState {
  private final long stateId;
  private final ServerSession owner;
  private final FileNode node;
  private final int access;
  private final int deny;
  private final boolean directory;
  private final OpenBudget budget;
  private volatile boolean revoked;
  /** Guarded by this; null while parked, after close, and for a directory. */
  private FileChannel channel;
  /** Guarded by this: operations between {@link #use} and {@link #done}. */
  private int users;
  /** Guarded by this. */
  private boolean closed;
  /** When the channel was last given back by an operation (nanoTime). */
  private volatile long lastUsed = System.nanoTime();
  /** Writes hold it shared from their revocation check to their last byte; revoking takes it exclusively. */
  private final ReentrantReadWriteLock io = new ReentrantReadWriteLock();

  /**
   * @param channel the open channel, whose descriptor was taken from {@code budget}; null for a
   *     directory opened for reading
   */
  OpenState(long stateId, ServerSession owner, FileNode node, FileChannel channel, int access, int deny, OpenBudget budget) {
    this.stateId = stateId;
    this.owner = owner;
    this.node = node;
    this.channel = channel;
    this.access = access;
    this.deny = deny;
    this.directory = channel == null;
    this.budget = budget;
    if (channel != null) {
      budget.holding(this);
    }
  }

  long stateId() {
    return stateId;
  }

  ServerSession owner() {
    return owner;
  }

  FileNode node() {
    return node;
  }

  boolean isDirectory() {
    return directory;
  }

  int access() {
    return access;
  }

  int deny() {
    return deny;
  }

  boolean canRead() {
    return (access & 1) != 0;
  }

  boolean canWrite() {
    return (access & 2) != 0;
  }

  /**
   * The channel for one operation, reopened if it was parked; every call is paired with
   * {@link #done}. Not for a directory.
   */
  FileChannel use() throws OpException, IOException {
    synchronized (this) {
      if (closed) {
        throw new OpException(Status.BAD_STATEID, "the open was closed");
      }
      users++;
      if (channel != null) {
        return channel;
      }
    }
    try {
      return reopen();
    } catch (OpException | IOException | RuntimeException e) {
      done();
      throw e;
    }
  }

  /** Ends an operation begun with {@link #use}. */
  void done() {
    synchronized (this) {
      users--;
    }
    lastUsed = System.nanoTime();
  }

  /**
   * Reopens the open if it is parked and holds it open (as {@link #use} does) until {@link #done}:
   * around its file's removal through the server, so that it is not parked again before the name is
   * gone and keeps the file afterwards, as unlink(2) promises. Returns false for a directory (nothing
   * to hold; no {@link #done} then).
   */
  boolean holdOpen() throws OpException, IOException {
    if (directory) {
      return false;
    }
    use();
    return true;
  }

  private FileChannel reopen() throws OpException, IOException {
    budget.acquire();
    FileChannel opened;
    try {
      List<OpenOption> opts = new ArrayList<>(List.of(LinkOption.NOFOLLOW_LINKS));
      if (canRead()) {
        opts.add(StandardOpenOption.READ);
      }
      if (canWrite()) {
        opts.add(StandardOpenOption.WRITE);
      }
      opened = FileChannel.open(node.path(), opts.toArray(OpenOption[]::new));
    } catch (NoSuchFileException e) {
      budget.release();
      throw stale();
    } catch (IOException | RuntimeException e) {
      budget.release();
      throw e;
    }
    try {
      Object key = Files.readAttributes(node.path(), java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      if (!Objects.equals(key, node.fileKey())) {
        throw new NoSuchFileException(node.path().toString());
      }
    } catch (IOException | RuntimeException e) {
      closeQuietly(opened);
      budget.release();
      synchronized (this) {
        if (channel != null) {
          return channel; // reopened by another operation meanwhile, before the name went
        }
      }
      if (e instanceof NoSuchFileException) {
        throw stale();
      }
      if (e instanceof IOException io) {
        throw io;
      }
      throw (RuntimeException) e;
    }
    synchronized (this) {
      if (closed) {
        // Closed while reopening: the new descriptor is not needed.
        budget.release();
        opened.close();
        throw new OpException(Status.BAD_STATEID, "the open was closed");
      }
      if (channel != null) {
        // Another operation reopened it first.
        budget.release();
        opened.close();
        return channel;
      }
      channel = opened;
      budget.holding(this);
      budget.reopened.increment();
      return opened;
    }
  }

  private static OpException stale() {
    return new OpException(Status.STALE, "the file was removed or replaced behind the server's back while its descriptor was parked");
  }

  /** Whether the open holds a descriptor no operation is using. */
  synchronized boolean idle() {
    return channel != null && users == 0 && !closed;
  }

  long lastUsed() {
    return lastUsed;
  }

  /**
   * Gives the descriptor back if no operation uses it; true if it did. Never for a removed file: its
   * descriptor may be the last link to its data.
   */
  boolean park() {
    FileChannel ch;
    synchronized (this) {
      if (channel == null || users > 0 || closed || node.isRemoved()) {
        return false;
      }
      ch = channel;
      channel = null;
      budget.notHolding(this);
    }
    closeQuietly(ch);
    budget.release();
    return true;
  }

  /** Closes the channel and gives its descriptor back; once. */
  void close() throws IOException {
    FileChannel ch;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      ch = channel;
      channel = null;
      if (ch != null) {
        budget.notHolding(this);
      }
    }
    if (ch != null) {
      try {
        ch.close();
      } finally {
        budget.release();
      }
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // Only read or written through; nothing to lose by closing.
    }
  }

  boolean isRevoked() {
    return revoked;
  }

  /** Marks the open revoked once the writes through it that are under way have finished. */
  void revoke() {
    io.writeLock().lock();
    try {
      revoked = true;
    } finally {
      io.writeLock().unlock();
    }
  }

  /** Held across a write, so that a write either finishes before a revocation or sees it. */
  Lock writing() {
    return io.readLock();
  }
}
