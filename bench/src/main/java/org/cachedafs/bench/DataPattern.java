package org.cachedafs.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bytes every benchmark file holds: each 8-byte word is a function of the file's seed, the write
 * generation and the word's offset. A reader can therefore check any bytes it got against where they
 * claim to come from, without a second copy of the file, and a write that landed at the wrong offset or
 * a stale block from an earlier generation fails the check.
 *
 * <p>Offsets and lengths are multiples of 8 everywhere the runner uses them.
 */
record DataPattern(long seed) {
  /**
   * The word at {@code offset} of generation {@code generation}. Distinct for every offset and
   * generation of a file (the multipliers are odd), and cheap enough to check every byte a run reads.
   */
  long word(long offset, int generation) {
    long z = seed + generation * 0xD1B54A32D192ED03L + (offset >>> 3) * 0x9E3779B97F4A7C15L;
    return z ^ (z >>> 29);
  }

  /** Fills {@code dst} from its position to its limit with the bytes at {@code offset}; position unchanged. */
  void fill(ByteBuffer dst, long offset, int generation) {
    ByteBuffer b = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = b.position(); i + 8 <= b.limit(); i += 8) {
      b.putLong(i, word(offset + (i - dst.position()), generation));
    }
  }

  /** Whether {@code length} bytes of {@code src} starting at index {@code at} are the file's bytes at {@code offset}. */
  boolean matches(ByteBuffer src, int at, int length, long offset, int generation) {
    ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 8 <= length; i += 8) {
      if (b.getLong(at + i) != word(offset + i, generation)) {
        return false;
      }
    }
    return true;
  }

  /** The byte offset of the first word of {@code src} that differs, or -1; for error messages. */
  long firstMismatch(ByteBuffer src, int at, int length, long offset, int generation) {
    ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + 8 <= length; i += 8) {
      if (b.getLong(at + i) != word(offset + i, generation)) {
        return offset + i;
      }
    }
    return -1;
  }
}
