package org.cachedafs.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import org.cachedafs.transport.Region;

/**
 * One fixed-size piece of a slab, and the file block it holds.
 *
 * <p><b>Life:</b> in the pool (retired) → assigned to a file block and filled (by a direct read from
 * the server into this very memory, or by a cached write) → published in the file's table → clean
 * (in the policy's index, evictable) or dirty (out of it, pinned until written back) → dropped or
 * evicted: taken out of the table and retired → back in the pool once the last reader lets go.
 *
 * <p><b>Pins:</b> a reader pins a block before copying from it, so the block cannot go back to the
 * pool under it. {@code pins} counts readers; its sign bit means retired (no new pins). Whoever takes
 * the count to zero on a retired block, or retires an unpinned one, returns it to the pool: exactly one
 * of them. A block is handed out of the pool with its new owner written first and {@code pins} reset
 * last (release), so a reader whose pin succeeds sees the owner the block has now and can tell a
 * recycled block from the one it looked up.
 *
 * <p><b>Version:</b> a seqlock against cached writes: odd while a writer (holding the file's monitor)
 * changes the bytes; a reader copies between two equal even readings.
 */
final class Block {
  static final int RETIRED = Integer.MIN_VALUE;
  private static final VarHandle PINS;
  private static final VarHandle VERSION;
  private static final VarHandle PREFETCHED;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      PINS = l.findVarHandle(Block.class, "pins", int.class);
      VERSION = l.findVarHandle(Block.class, "version", int.class);
      PREFETCHED = l.findVarHandle(Block.class, "prefetched", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final BlockPool pool;
  final int index;
  /** The slab's registered region, named in direct transfers. */
  final Region region;
  /** Where this block starts in {@link #region}. */
  final int regionOffset;
  /** This block's memory only, positioned at 0; used with absolute gets and puts, so threads share it. */
  final ByteBuffer memory;

  /** Written before pins is reset on assignment. */
  volatile FileCache owner;
  volatile long blockNo;
  BlockKey key;
  /** Bytes from the block's start that hold file data; -1 while being filled. */
  volatile int validBytes;
  /**
   * Read ahead and not yet used. Such a block is kept out of the policy until its first hit: a
   * scan-resistant policy would otherwise evict freshly read-ahead blocks (seen once, like a scan)
   * before the reader gets to them. Cleared exactly once, by whoever wins {@link #clearPrefetched}.
   */
  @SuppressWarnings("unused") // through PREFETCHED
  private volatile boolean prefetched;

  @SuppressWarnings("unused") // through PINS
  private volatile int pins = RETIRED;
  @SuppressWarnings("unused") // through VERSION
  private volatile int version;

  // Guarded by owner's monitor.
  boolean dirty;
  int dirtyFrom;
  int dirtyTo;
  long dirtyGeneration;

  Block(BlockPool pool, int index, Region region, int regionOffset, ByteBuffer memory) {
    this.pool = pool;
    this.index = index;
    this.region = region;
    this.regionOffset = regionOffset;
    this.memory = memory;
  }

  /** Called by the pool on a retired block with no readers: take it for {@code fc}'s block {@code no}. */
  void assign(FileCache fc, long no) {
    owner = fc;
    blockNo = no;
    key = new BlockKey(fc.id, no);
    validBytes = -1;
    PREFETCHED.setVolatile(this, false);
    dirty = false;
    dirtyFrom = Integer.MAX_VALUE;
    dirtyTo = 0;
    PINS.setRelease(this, 1); // the assigner holds the first pin
  }

  /** Pins for reading; false if the block is retired. */
  boolean pin() {
    while (true) {
      int p = (int) PINS.getVolatile(this);
      if (p < 0) {
        return false;
      }
      if (PINS.compareAndSet(this, p, p + 1)) {
        return true;
      }
    }
  }

  void unpin() {
    int now = (int) PINS.getAndAdd(this, -1) - 1;
    if (now == RETIRED) {
      pool.release(this);
    }
  }

  /** No new pins; back to the pool when the last pin goes. Idempotent. */
  void retire() {
    int before = (int) PINS.getAndBitwiseOr(this, RETIRED);
    if (before == 0) {
      pool.release(this);
    }
  }

  void markPrefetched() {
    PREFETCHED.setVolatile(this, true);
  }

  boolean isPrefetched() {
    return (boolean) PREFETCHED.getVolatile(this);
  }

  /** True for the one caller that clears the flag (first use, drop or reclaim of a read-ahead block). */
  boolean clearPrefetched() {
    return (boolean) PREFETCHED.getVolatile(this) && PREFETCHED.compareAndSet(this, true, false);
  }

  /** Whether this pinned block still holds {@code fc}'s block {@code no}, filled. */
  boolean holds(FileCache fc, long no) {
    return owner == fc && blockNo == no && validBytes >= 0;
  }

  int readVersion() {
    return (int) VERSION.getAcquire(this);
  }

  /** Writer side of the seqlock; the caller holds the owner's monitor. */
  void beginWrite() {
    VERSION.getAndAdd(this, 1);
  }

  void endWrite() {
    VERSION.getAndAdd(this, 1);
  }

  /** Reader side: whether a copy made after {@code before} was read is consistent. */
  boolean validate(int before) {
    VarHandle.acquireFence();
    return (before & 1) == 0 && before == (int) VERSION.getVolatile(this);
  }

  @Override
  public String toString() {
    return "Block[" + index + ", file " + (owner == null ? "-" : owner.id) + " #" + blockNo + (dirty ? ", dirty" : "") + "]";
  }
}
