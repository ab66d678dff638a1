package org.cachedafs.cache;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BiConsumer;

/**
 * A file's blocks by block number: the hit path's index. Each slot holds nothing, a {@link Block}, or
 * a {@link Fill} (a miss in progress). Slots live in fixed chunks that never move once made, so a CAS
 * on a slot is never lost to the table growing; the chunk directory is copied when it grows.
 *
 * <p>A lookup is a primitive block number, two array loads and one volatile slot read: no boxing, no
 * hashing, no allocation.
 */
final class BlockTable {
  private static final int CHUNK_BITS = 9;
  private static final int CHUNK = 1 << CHUNK_BITS;
  /**
   * Blocks at or past this number are never cached (2 TiB of file with 4 KiB blocks, 32 TiB with
   * 64 KiB): the chunk directory stays under 8 MiB for any file, and I/O beyond goes to the server.
   */
  static final long MAX_BLOCK = (1L << 20) * CHUNK;

  private volatile AtomicReferenceArray<Object>[] chunks;

  @SuppressWarnings("unchecked")
  BlockTable() {
    chunks = new AtomicReferenceArray[4];
  }

  /** The slot's content, or null. */
  Object get(long blockNo) {
    AtomicReferenceArray<Object>[] c = chunks;
    long ci = blockNo >>> CHUNK_BITS;
    if (blockNo < 0 || ci >= c.length) {
      return null;
    }
    AtomicReferenceArray<Object> chunk = c[(int) ci];
    return chunk == null ? null : chunk.get((int) (blockNo & (CHUNK - 1)));
  }

  boolean compareAndSet(long blockNo, Object expect, Object update) {
    return chunk(blockNo).compareAndSet((int) (blockNo & (CHUNK - 1)), expect, update);
  }

  private AtomicReferenceArray<Object> chunk(long blockNo) {
    if (blockNo < 0 || blockNo >= MAX_BLOCK) {
      throw new IllegalArgumentException("block " + blockNo + " is past what the cache holds");
    }
    int ci = (int) (blockNo >>> CHUNK_BITS);
    AtomicReferenceArray<Object>[] c = chunks;
    if (ci < c.length && c[ci] != null) {
      return c[ci];
    }
    return grow(ci);
  }

  private synchronized AtomicReferenceArray<Object> grow(int ci) {
    AtomicReferenceArray<Object>[] c = chunks;
    if (ci >= c.length) {
      c = java.util.Arrays.copyOf(c, Math.max(ci + 1, c.length * 2));
    } else {
      c = c.clone();
    }
    if (c[ci] == null) {
      c[ci] = new AtomicReferenceArray<>(CHUNK);
    }
    chunks = c;
    return c[ci];
  }

  /** Every occupied slot, in block order (a snapshot per slot, racing with updates). */
  void forEach(BiConsumer<Long, Object> action) {
    AtomicReferenceArray<Object>[] c = chunks;
    for (int ci = 0; ci < c.length; ci++) {
      AtomicReferenceArray<Object> chunk = c[ci];
      if (chunk == null) {
        continue;
      }
      for (int i = 0; i < CHUNK; i++) {
        Object o = chunk.get(i);
        if (o != null) {
          action.accept(((long) ci << CHUNK_BITS) | i, o);
        }
      }
    }
  }
}
