package org.cachedafs.cache;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;

/**
 * The miss path: a block read from the server by a direct transfer into its own registered memory,
 * once however many readers want it (a {@link Fill} stands in its slot meanwhile), and published into
 * the file's table unless the file's epoch ended first. The read-ahead's scatter reads publish
 * through {@link #completeFill} too.
 *
 * <p>Locking: no state of its own. Publication is under the file's monitor; the transfer is not.
 */
final class BlockLoader {
  private final DafsSession session;
  private final Allocator allocator;
  private final BlockIndex index;
  private final ReadAheadBudget readAhead;
  private final Recalls failures;
  private final Counters counters;
  private final int blockSize;
  private final int blockShift;
  /** A block of zeros, the source for zeroing block memory. */
  private final ByteBuffer zeros;

  BlockLoader(DafsSession session, Allocator allocator, BlockIndex index, ReadAheadBudget readAhead, Recalls failures,
      Counters counters, int blockSize, ByteBuffer zeros) {
    this.session = session;
    this.allocator = allocator;
    this.index = index;
    this.readAhead = readAhead;
    this.failures = failures;
    this.counters = counters;
    this.blockSize = blockSize;
    this.blockShift = Integer.numberOfTrailingZeros(blockSize);
    this.zeros = zeros;
  }

  /**
   * The block for {@code bn}, pinned, read from the server by a direct transfer into the block's own
   * registered memory; concurrent misses of one block share one transfer. Null if the file is no
   * longer cached or no block could be had.
   */
  Block load(FileCache fc, OpenFile of, long bn) throws IOException {
    if (bn >= BlockTable.MAX_BLOCK) {
      return null;
    }
    while (true) {
      if (fc.mode == FileCache.NONE) {
        return null;
      }
      Object o = fc.table.get(bn);
      if (o instanceof Block) {
        Block b = fc.hit(bn);
        if (b != null) {
          return b;
        }
        Thread.onSpinWait();
        continue;
      }
      if (o instanceof Fill f) {
        Block b = await(f.done);
        if (b != null && b.pin()) {
          if (b.holds(fc, bn)) {
            if (b.isPrefetched()) {
              readAhead.firstUse(fc, b);
            }
            return b;
          }
          b.unpin();
        }
        if (b == null && fc.table.get(bn) == f) {
          return null; // that fill could not be cached; neither will this one
        }
        continue;
      }
      Fill f = new Fill(fc.epoch, false);
      if (!fc.table.compareAndSet(bn, null, f)) {
        continue;
      }
      counters.misses.increment();
      Block b = allocator.allocate(fc, bn);
      if (b == null) {
        fc.table.compareAndSet(bn, f, null);
        f.done.complete(null);
        return null;
      }
      CompletableFuture<Integer> io;
      try {
        io = session.readDirectAsync(of, bn << blockShift, b.region, b.regionOffset, blockSize);
      } catch (RuntimeException e) {
        io = CompletableFuture.failedFuture(e);
      }
      Integer n = null;
      Throwable err = null;
      try {
        n = io.get();
      } catch (ExecutionException e) {
        err = e.getCause();
      } catch (InterruptedException e) {
        // The server is still writing into b's memory: b goes back only when that transfer ends.
        io.whenComplete((done, failed) -> {
          completeFill(fc, f, b, bn, done, failed);
          b.unpin();
        });
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while reading a block");
      }
      completeFill(fc, f, b, bn, n, err);
      if (err != null) {
        b.unpin();
        throw failures.ioFailure(fc, of, err);
      }
      return b; // still holding the assigner's pin
    }
  }

  /** Publishes a filled block (unless a drop came first); the assigner's pin stays with the caller. */
  void completeFill(FileCache fc, Fill f, Block b, long bn, Integer n, Throwable err) {
    if (err != null) {
      fc.table.compareAndSet(bn, f, null);
      b.retire();
      f.done.completeExceptionally(err);
      return;
    }
    int got = n;
    if (got < blockSize) {
      b.memory.put(got, zeros, 0, blockSize - got); // a hole or the end of the file: reads there see zeros
    }
    b.validBytes = got;
    boolean published;
    synchronized (fc) {
      published = fc.epoch == f.epoch && fc.mode != FileCache.NONE && fc.table.compareAndSet(bn, f, b);
      if (published) {
        if (f.readAhead) {
          readAhead.parked(b); // out of the policy until first used
        } else {
          index.add(b);
        }
      }
    }
    if (!published) {
      fc.table.compareAndSet(bn, f, null);
      b.retire();
    }
    f.done.complete(published ? b : null);
  }

  /** Waits for another reader's fill: its block, or null if it could not be cached. */
  static Block await(CompletableFuture<Block> f) throws IOException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      return null; // the loading reader reports the failure; waiters try again or go to the server
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for a block");
    }
  }
}
