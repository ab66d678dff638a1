package org.cachedafs.server;

import java.util.concurrent.CompletableFuture;

/**
 * An operation conflicts with another client's delegation, which is being recalled, or with a
 * courtesy session's share reservation or lock, which is being ended ({@link Courtesy}). The operation
 * has done nothing yet; the dispatcher runs it again once {@link #resolved} completes (the holder
 * returned the delegation, or it was revoked; the courtesy session ended), without holding a worker
 * while it waits.
 */
final class RecallPending extends Exception {
  final CompletableFuture<Void> resolved;
  /** The file whose recall is waited on (the delegations count the waiter), or null for a courtesy session's end. */
  final FileNode file;

  RecallPending(CompletableFuture<Void> resolved, FileNode file) {
    super("waiting for a delegation recall", null, false, false);
    this.resolved = resolved;
    this.file = file;
  }
}
