package org.cachedafs.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The layout of one slot of a server's exported block cache (ODAFS), as a client reads it with one
 * one-sided read, and the rule by which the client accepts what it read. Both sides use this class:
 * the server to lay a slot out, the client to validate its copy (docs/odafs.md).
 *
 * <pre>
 *  offset              size  field (little-endian)
 *  0                   4     magic 0x4F444146 ("ODAF")
 *  4                   4     valid length: bytes of the block that hold file data
 *  8                   8     file id, high half: the server run's random boot prefix (never 0)
 *  16                  8     file id, low half: a counter, never reused within the run
 *  24                  8     block number
 *  32                  8     generation: odd while the slot changes, even when it is stable
 *  40                  4     checksum: CRC32C of bytes 4..39 with the generation even, then the valid bytes
 *  44                  20    reserved (zero)
 *  64                  B     the block (B = the exported block size)
 *  64 + B              8     trailer: the generation again
 *  64 + B + 8          56    padding, so that the next slot's header has a cache line of its own
 * </pre>
 *
 * A client reads {@link #readLength} bytes from the slot's start: header, block and the trailer's
 * generation.
 */
public final class SlotImage {
  public static final int MAGIC = 0x4F444146;
  public static final int HEADER_BYTES = 64;
  public static final int TRAILER_BYTES = 64;
  public static final int MAGIC_AT = 0;
  public static final int VALID_AT = 4;
  public static final int BOOT_AT = 8;
  public static final int FILE_AT = 16;
  public static final int BLOCK_AT = 24;
  public static final int GENERATION_AT = 32;
  public static final int CHECKSUM_AT = 40;
  /** The smallest and largest exported block sizes (powers of two). */
  public static final int MIN_BLOCK = 512;
  public static final int MAX_BLOCK = 1 << 20;

  private SlotImage() {}

  /** Bytes a slot occupies in the server's slab. */
  public static int slotBytes(int blockSize) {
    return HEADER_BYTES + blockSize + TRAILER_BYTES;
  }

  /** Bytes a client reads: the header, the block and the trailer's generation. */
  public static int readLength(int blockSize) {
    return HEADER_BYTES + blockSize + 8;
  }

  /** Where the trailer's generation lies, from the slot's start. */
  public static int trailerAt(int blockSize) {
    return HEADER_BYTES + blockSize;
  }

  public static boolean validBlockSize(int blockSize) {
    return blockSize >= MIN_BLOCK && blockSize <= MAX_BLOCK && Integer.bitCount(blockSize) == 1;
  }

  /**
   * The checksum of a stable slot: CRC32C over the valid length, file id, block number and (even)
   * generation, little-endian as laid out, then over the {@code valid} bytes of {@code data} from its
   * position. Binding the identity and the generation into the sum means a header torn from two
   * updates fails it, as does data of one update under the header of another.
   */
  public static int checksum(int valid, long boot, long file, long block, long generation, ByteBuffer data) {
    ByteBuffer h = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(valid).putLong(boot).putLong(file).putLong(block).putLong(generation).flip();
    CRC32C crc = new CRC32C();
    crc.update(h);
    ByteBuffer d = data.duplicate();
    d.limit(d.position() + valid);
    crc.update(d);
    return (int) crc.getValue();
  }

  /** What a client's check of a slot image found. */
  public enum Verdict {
    /** Stable, the expected block at the expected generation, intact, covering the range. */
    VALID,
    /** Caught changing (an odd generation, or the two ends or the checksum disagree): may be retried. */
    TORN,
    /** Stable but another block, file or generation (reused, changed, or never this one): the reference is dead. */
    CHANGED,
    /** The expected block, but its valid bytes do not cover the range read (the end of the file). */
    SHORT
  }

  /**
   * Checks a slot image read into {@code image} (from its position; at least {@link #readLength}
   * bytes) against what the reference promised, for the bytes {@code [from, to)} of the block.
   * Reads only {@code image}, a private copy: nothing here can change under the check.
   */
  public static Verdict check(ByteBuffer image, int blockSize, long boot, long file, long block, long generation, int from, int to) {
    ByteBuffer b = image.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int base = b.position();
    long head = b.getLong(base + GENERATION_AT);
    long tail = b.getLong(base + trailerAt(blockSize));
    if ((head & 1) != 0 || head != tail) {
      return Verdict.TORN;
    }
    if (b.getInt(base + MAGIC_AT) != MAGIC) {
      return Verdict.CHANGED; // never a slot, or not one any more
    }
    if (b.getLong(base + BOOT_AT) != boot || b.getLong(base + FILE_AT) != file
        || b.getLong(base + BLOCK_AT) != block || head != generation) {
      // Identity fields read from a stable-looking image may still be torn; the checksum decides
      // whether it was stable. Either way the reference cannot be used: a torn one is retried.
      return intact(b, base, blockSize) ? Verdict.CHANGED : Verdict.TORN;
    }
    if (!intact(b, base, blockSize)) {
      return Verdict.TORN;
    }
    int valid = b.getInt(base + VALID_AT);
    return to <= valid ? Verdict.VALID : Verdict.SHORT;
  }

  private static boolean intact(ByteBuffer b, int base, int blockSize) {
    int valid = b.getInt(base + VALID_AT);
    if (valid < 0 || valid > blockSize) {
      return false;
    }
    int sum = checksum(valid, b.getLong(base + BOOT_AT), b.getLong(base + FILE_AT), b.getLong(base + BLOCK_AT),
        b.getLong(base + GENERATION_AT), b.duplicate().position(base + HEADER_BYTES));
    return sum == b.getInt(base + CHECKSUM_AT);
  }
}
