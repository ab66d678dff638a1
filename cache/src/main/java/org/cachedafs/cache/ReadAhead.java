package org.cachedafs.cache;

import org.cachedafs.client.OpenFile;

/**
 * Sequential-read detection and the read-ahead window of one open file, after Linux's readahead: a
 * read that starts where the last one ended grows the window (4 blocks, then doubling up to the
 * maximum); any other read turns it off; a read that misses a block read ahead for it (the block was
 * evicted before use: the window is too big for the cache) halves it. Blocks are requested only past
 * what was already requested, so a steady sequential reader issues each block once, and the blocks one
 * read asks for go out as one scatter read per run of consecutive blocks ({@link Prefetcher#prefetch}):
 * the cost of a request, not of a block, is what limits a cold sequential read.
 *
 * <p>The fields are a heuristic read and written without locks by the open's readers: a lost update
 * costs one read-ahead decision, never correctness.
 */
final class ReadAhead {
  private static final int INITIAL = 4;
  private final int max;
  private long nextOffset = -1;
  private int window;
  /** The highest block number requested ahead. */
  private long requestedUpTo = -1;

  ReadAhead(int maxBlocks) {
    this.max = maxBlocks;
  }

  int window() {
    return window;
  }

  /** A read missed block {@code bn}: if it had been read ahead, the window outran the cache. */
  void missed(long bn) {
    if (bn <= requestedUpTo && window > 0) {
      window = Math.max(1, window / 2);
    }
  }

  /** After a read of {@code [pos, pos + len)}: update the window and request what lies ahead. */
  void after(Prefetcher prefetcher, FileCache fc, OpenFile of, long pos, int len) {
    if (max == 0) {
      return;
    }
    if (pos == nextOffset) {
      window = window == 0 ? Math.min(INITIAL, max) : Math.min(window * 2, max);
    } else if (pos != 0 || nextOffset != -1) {
      window = 0;
      requestedUpTo = -1;
    }
    nextOffset = pos + len;
    if (window == 0) {
      return;
    }
    long last = (pos + len - 1) >>> fc.blockShift();
    long end = Math.min(last + window, (fc.size - 1) >>> fc.blockShift());
    long from = Math.max(last + 1, requestedUpTo + 1);
    if (from <= end) {
      // Stops short when out of read-ahead credits or memory: the rest is tried on the next read.
      long upTo = prefetcher.prefetch(fc, of, from, end);
      if (upTo >= from) {
        requestedUpTo = upTo;
      }
    }
  }
}
