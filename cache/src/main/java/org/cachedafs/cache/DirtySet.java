package org.cachedafs.cache;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One file's dirty blocks, and the only code that changes a block's dirty marks ({@link Block#dirty},
 * its dirty range and generation). A dirty block is out of the policy and stays in the pool until it
 * is written back or dropped; every change here is counted in the cache-wide {@link DirtyLimits}.
 *
 * <p>Locking: every method runs under the owning file's monitor ({@link FileCache}), which also guards
 * the blocks' dirty fields; none calls out.
 */
final class DirtySet {
  /** Guarded by the file's monitor. */
  private final Set<Block> blocks = new LinkedHashSet<>();
  private final DirtyLimits limits;

  /** The range and generation of one dirty block taken for a write-back. */
  record Job(Block block, long generation, int from, int to) {}

  DirtySet(DirtyLimits limits) {
    this.limits = limits;
  }

  boolean isEmpty() {
    return blocks.isEmpty();
  }

  /**
   * {@code [from, to)} of {@code b} now holds bytes the server does not have. Returns whether the
   * block was clean before (the cache holds one more dirty block).
   */
  boolean mark(Block b, int from, int to) {
    boolean more = !b.dirty;
    if (more) {
      b.dirty = true;
      blocks.add(b);
      limits.dirtied();
    }
    b.dirtyFrom = Math.min(b.dirtyFrom, from);
    b.dirtyTo = Math.max(b.dirtyTo, to);
    b.dirtyGeneration++;
    return more;
  }

  /**
   * A write-through changed bytes of dirty block {@code b}: a write-back in flight may carry its bytes
   * from before that write and reach the server after it, so the block stays dirty for the next round.
   */
  void rewritten(Block b) {
    b.dirtyGeneration++;
  }

  /** Pins every dirty block and takes its range: the jobs of one write-back. */
  List<Job> take() {
    List<Job> jobs = new ArrayList<>(blocks.size());
    for (Block b : blocks) {
      if (b.pin()) {
        jobs.add(new Job(b, b.dirtyGeneration, b.dirtyFrom, b.dirtyTo));
      }
    }
    return jobs;
  }

  /** Whether {@code j}'s transfer left its block clean: nobody wrote it since the job was taken. */
  boolean cleanIfUnchanged(Job j) {
    Block b = j.block();
    if (!b.dirty || b.dirtyGeneration != j.generation()) {
      return false;
    }
    clean(b);
    return true;
  }

  /** A truncation cut the block at {@code tail}: true if no dirty byte is left in it (it is clean now). */
  boolean truncate(Block b, int tail) {
    if (!b.dirty) {
      return false;
    }
    b.dirtyTo = Math.min(b.dirtyTo, tail);
    if (b.dirtyFrom < b.dirtyTo) {
      return false;
    }
    clean(b);
    return true;
  }

  /** {@code b} leaves the file: returns the dirty bytes it still held (lost or truncated away). */
  long discard(Block b) {
    if (!b.dirty) {
      return 0;
    }
    long bytes = b.dirtyTo - b.dirtyFrom;
    b.dirty = false;
    blocks.remove(b);
    limits.cleaned();
    return bytes;
  }

  /** The end of the furthest dirty byte, or {@code end} if that is further. */
  long end(long end, int blockShift) {
    for (Block b : blocks) {
      end = Math.max(end, (b.blockNo << blockShift) + b.dirtyTo);
    }
    return end;
  }

  private void clean(Block b) {
    b.dirty = false;
    b.dirtyFrom = Integer.MAX_VALUE;
    b.dirtyTo = 0;
    blocks.remove(b);
    limits.cleaned();
  }
}
