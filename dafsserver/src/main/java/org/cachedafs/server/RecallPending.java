package org.cachedafs.server;

import java.util.concurrent.CompletableFuture;

/**
 * An operation conflicts with another client's delegation, which is being recalled. The operation
 * has done nothing yet; the dispatcher runs it again once {@link #resolved} completes (the holder
 * returned the delegation, or it was revoked at the end of the lease), without holding a worker
 * while it waits.
 */
final class RecallPending extends Exception {
  final CompletableFuture<Void> resolved;
  final FileNode file;

  RecallPending(CompletableFuture<Void> resolved, FileNode file) {
    super("waiting for a delegation recall", null, false, false);
    this.resolved = resolved;
    this.file = file;
  }
}
