package org.cachedafs.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.cachedafs.client.OpenFile;

/**
 * Cached writes, under a WRITE delegation: a write goes into the block (a fresh zeroed block past end
 * of file or for a whole-block write; otherwise the block is read first, so a partial-block write keeps
 * the rest of it), which becomes dirty: out of the policy and in the file's {@link DirtySet}.
 *
 * <p>A cached write into a clean block takes it out of the policy before changing a byte, then checks it
 * is still the file's block: an eviction either finished before (and the write starts again) or can no
 * longer happen, since Caffeine evicts inside the key's own {@code computeIfPresent}.
 *
 * <p>Locking: no state of its own. The bytes change under the file's monitor, inside the block's
 * seqlock; reading a partial block's rest happens before, without it.
 */
final class CachedWriter {
  private final Allocator allocator;
  private final BlockLoader loader;
  private final BlockIndex index;
  private final ReadAheadBudget readAhead;
  private final int blockSize;
  private final int blockShift;
  private final ByteBuffer zeros;
  private final WriteBackScheduler scheduler;

  CachedWriter(Allocator allocator, BlockLoader loader, BlockIndex index, ReadAheadBudget readAhead, int blockSize, ByteBuffer zeros,
      WriteBackScheduler scheduler) {
    this.scheduler = scheduler;
    this.allocator = allocator;
    this.loader = loader;
    this.index = index;
    this.readAhead = readAhead;
    this.blockSize = blockSize;
    this.blockShift = Integer.numberOfTrailingZeros(blockSize);
    this.zeros = zeros;
  }

  /**
   * Writes into the cache, under a WRITE delegation, as far as it can: returns the bytes written
   * (advancing {@code src}); fewer than asked if the delegation went meanwhile or no block could be had.
   * The caller writes the rest through to the server. A write that dirtied more blocks is then held
   * back as the dirty limits say ({@link WriteBackScheduler#afterDirtying}); one into blocks already
   * dirty never is.
   */
  int write(FileCache fc, OpenFile of, long pos, ByteBuffer src) throws IOException {
    int total = src.remaining();
    int done = 0;
    int bs = blockSize;
    boolean more = false;
    while (done < total) {
      long p = pos + done;
      long bn = p >>> blockShift;
      int off = (int) (p & (bs - 1));
      int len = Math.min(bs - off, total - done);
      ByteBuffer piece = src.slice(src.position() + done, len);
      int wrote = writeBlock(fc, of, bn, off, piece);
      if (wrote == NOT_CACHED) {
        break;
      }
      more |= wrote == DIRTIED;
      done += len;
    }
    src.position(src.position() + done);
    if (more && done == total) {
      scheduler.afterDirtying(fc, of);
    }
    return done;
  }

  private static final int NOT_CACHED = 0;
  private static final int WRITTEN = 1;
  private static final int DIRTIED = 2;

  /** Returns NOT_CACHED, WRITTEN (into a block already dirty) or DIRTIED (one more dirty block). */
  private int writeBlock(FileCache fc, OpenFile of, long bn, int off, ByteBuffer piece) throws IOException {
    int len = piece.remaining();
    int bs = blockSize;
    if (bn >= BlockTable.MAX_BLOCK) {
      return NOT_CACHED;
    }
    boolean more;
    while (true) {
      // Read before the mode and the size: a fresh block decided on under an earlier epoch (before a
      // recall and a new grant, say, when another client may have extended the file) is not inserted.
      long began = fc.epoch;
      if (fc.mode != FileCache.WRITE) {
        return NOT_CACHED;
      }
      Object slot = fc.table.get(bn);
      if (slot instanceof Fill f) {
        BlockLoader.await(f.done); // a read of this block is on its way: write into what it brings
        continue;
      }
      Block b = slot instanceof Block cached && cached.pin() ? cached : null;
      if (b != null && !b.holds(fc, bn)) {
        b.unpin();
        b = null;
      }
      boolean fresh = false;
      if (b == null) {
        long start = bn << blockShift;
        if ((off == 0 && len == bs) || start >= fc.size) {
          // Nothing of the server's to keep: a fresh block, filled before anyone can see it.
          b = allocator.allocate(fc, bn);
          if (b == null) {
            return NOT_CACHED;
          }
          if (len < bs) {
            b.memory.put(0, zeros, 0, bs);
          }
          b.memory.put(off, piece, piece.position(), len);
          b.validBytes = off + len;
          fresh = true;
        } else {
          b = loader.load(fc, of, bn); // read-modify-write of a partial block
          if (b == null) {
            return NOT_CACHED;
          }
        }
      }
      synchronized (fc) {
        if (fc.mode != FileCache.WRITE || fc.epoch != began) {
          if (fresh) {
            b.retire();
          }
          b.unpin();
          if (fc.mode != FileCache.WRITE) {
            return NOT_CACHED;
          }
          continue; // dropped, truncated or granted anew meanwhile: decide again
        }
        if (fresh) {
          if (!fc.table.compareAndSet(bn, null, b)) {
            b.retire();
            b.unpin();
            continue; // someone cached this block meanwhile: write into theirs
          }
        } else {
          if (!b.dirty) {
            // Out of the policy before the bytes change: from here on it cannot be evicted under us.
            index.remove(b);
          }
          if (fc.table.get(bn) != b) {
            b.unpin();
            continue; // evicted or dropped meanwhile: start again
          }
          readAhead.gone(b);
          b.beginWrite();
          try {
            b.memory.put(off, piece, piece.position(), len);
          } finally {
            b.endWrite();
          }
          b.validBytes = Math.max(b.validBytes, off + len);
        }
        more = fc.dirty.mark(b, off, off + len);
        fc.wroteUpTo((bn << blockShift) + off + len);
      }
      b.unpin();
      return more ? DIRTIED : WRITTEN;
    }
  }
}
