package org.cachedafs.cache;

import java.util.concurrent.CompletableFuture;

/**
 * A miss in progress, standing in a table slot so that concurrent readers of the block wait for one
 * transfer instead of starting their own (single-flight). Completes with the filled block (not pinned
 * for the waiter: it pins it itself), or null if the block could not be cached, or exceptionally.
 */
final class Fill {
  final CompletableFuture<Block> done = new CompletableFuture<>();
  /** The file's drop epoch when the fill began: a fill that outlives a drop is not published. */
  final long epoch;
  final boolean readAhead;

  Fill(long epoch, boolean readAhead) {
    this.epoch = epoch;
    this.readAhead = readAhead;
  }
}
