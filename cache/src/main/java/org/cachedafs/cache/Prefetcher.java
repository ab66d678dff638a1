package org.cachedafs.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.Segment;
import org.cachedafs.protocol.Limits;

/**
 * Read-ahead I/O: the blocks a {@link ReadAhead} window asks for go out as one scatter read per run of
 * consecutive blocks (READ_DIRECT_V, at most 64 blocks and 16 MiB), each segment naming one block's
 * own memory wherever it lies in the slabs. Every block of a run has its own {@link Fill}, completed
 * when the one request is, with its share of the bytes. The cost of a cold sequential read is per
 * request, not per block, which is why runs matter.
 *
 * <p>Locking: no state of its own; credits and room are the {@link ReadAheadBudget}'s, publication is
 * the {@link BlockLoader}'s, under the file's monitor.
 */
final class Prefetcher {
  private final DafsSession session;
  private final Allocator allocator;
  private final ReadAheadBudget budget;
  private final BlockLoader loader;
  private final Counters counters;
  private final int blockSize;
  private final int blockShift;
  private final int maxRun;

  Prefetcher(DafsSession session, Allocator allocator, ReadAheadBudget budget, BlockLoader loader, Counters counters, int blockSize) {
    this.session = session;
    this.allocator = allocator;
    this.budget = budget;
    this.loader = loader;
    this.counters = counters;
    this.blockSize = blockSize;
    this.blockShift = Integer.numberOfTrailingZeros(blockSize);
    this.maxRun = Math.max(1, Math.min(Limits.MAX_SEGMENTS, Limits.MAX_DIRECT / blockSize));
  }

  /**
   * Starts reading blocks {@code first..last} of {@code fc} ahead, skipping those cached or coming.
   * Each run of consecutive blocks to read takes one read-ahead credit. Returns the last block dealt
   * with, below {@code last} if the session's read-ahead credits or the pool ran out, so the caller
   * stops there for now.
   */
  long prefetch(FileCache fc, OpenFile of, long first, long last) {
    long bn = first;
    while (bn <= last) {
      if (fc.mode == FileCache.NONE || bn >= BlockTable.MAX_BLOCK) {
        return last;
      }
      if (fc.table.get(bn) != null) {
        bn++;
        continue;
      }
      int reserved = budget.start((int) Math.min(maxRun, last - bn + 1));
      if (reserved == 0) {
        return bn - 1;
      }
      List<Fill> fills = new ArrayList<>(reserved);
      List<Block> blocks = new ArrayList<>(reserved);
      boolean dry = false;
      long runStart = bn;
      while (blocks.size() < reserved && bn <= last && bn < BlockTable.MAX_BLOCK) {
        Fill f = new Fill(fc.epoch, true);
        if (!fc.table.compareAndSet(bn, null, f)) {
          break; // cached or coming meanwhile: the run ends here
        }
        Block b = allocator.allocate(fc, bn);
        if (b == null) {
          fc.table.compareAndSet(bn, f, null);
          f.done.complete(null);
          dry = true;
          break;
        }
        fills.add(f);
        blocks.add(b);
        bn++;
      }
      if (blocks.isEmpty()) {
        budget.done(reserved);
      } else {
        readRun(fc, of, runStart, fills, blocks, reserved);
      }
      if (dry) {
        return bn - 1;
      }
    }
    return last;
  }

  /**
   * One scatter read for blocks {@code runStart, runStart + 1, ...}: each block's fill completes when
   * the request does, as a single block's would, with its share of the bytes.
   */
  private void readRun(FileCache fc, OpenFile of, long runStart, List<Fill> fills, List<Block> blocks, int reserved) {
    counters.readAheadIssued.add(blocks.size());
    List<Segment> segments = new ArrayList<>(blocks.size());
    for (Block b : blocks) {
      segments.add(new Segment(b.region, b.regionOffset, blockSize));
    }
    CompletableFuture<Integer> io;
    try {
      io = session.readDirectVAsync(of, runStart << blockShift, segments);
    } catch (RuntimeException e) {
      io = CompletableFuture.failedFuture(e);
    }
    io.whenComplete((n, err) -> {
      try {
        for (int i = 0; i < blocks.size(); i++) {
          Fill f = fills.get(i);
          Block b = blocks.get(i);
          long bn = runStart + i;
          Integer got = err != null ? null : (int) Math.max(0, Math.min(blockSize, n - (long) i * blockSize));
          try {
            loader.completeFill(fc, f, b, bn, got, err);
          } catch (RuntimeException e) {
            fc.table.compareAndSet(bn, f, null);
            b.retire();
            f.done.completeExceptionally(e);
          } finally {
            b.unpin();
          }
        }
      } finally {
        budget.done(reserved);
      }
    });
  }
}
