package org.cachedafs.server;

import java.nio.channels.FileChannel;

/**
 * One open of a file by one session. It owns its channel: {@link ServerSession} closes it on CLOSE or
 * when the session ends. Removing the file leaves the channel usable, as unlink(2) does.
 *
 * <p>When a delegation on the file is revoked from the session, its opens of the file are marked
 * revoked: every later read or write through them fails with DELEG_REVOKED, so nothing the old
 * holder flushes late can overwrite what the new owner wrote. Closing still works.
 */
final class OpenState {
  private final long stateId;
  private final ServerSession owner;
  private final FileNode node;
  private final FileChannel channel;
  private final int access;
  private final int deny;
  private volatile boolean revoked;
  /** The server-wide descriptor budget this open's channel counts against; null if it holds none. */
  private final OpenBudget budget;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  /** Writes hold it shared from their revocation check to their last byte; revoking takes it exclusively. */
  private final java.util.concurrent.locks.ReentrantReadWriteLock io = new java.util.concurrent.locks.ReentrantReadWriteLock();

  /**
   * @param channel null for a directory opened for reading
   * @param budget what the channel's descriptor was taken from, released with it; null if none
   */
  OpenState(long stateId, ServerSession owner, FileNode node, FileChannel channel, int access, int deny, OpenBudget budget) {
    this.stateId = stateId;
    this.budget = budget;
    this.owner = owner;
    this.node = node;
    this.channel = channel;
    this.access = access;
    this.deny = deny;
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

  FileChannel channel() {
    return channel;
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

  /** Closes the channel and gives its descriptor back to the budget; once. */
  void close() throws java.io.IOException {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      if (channel != null) {
        channel.close();
      }
    } finally {
      if (budget != null) {
        budget.release();
      }
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
  java.util.concurrent.locks.Lock writing() {
    return io.readLock();
  }
}
