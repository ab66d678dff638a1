package org.cachedafs.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Appends big-endian fields to a growing heap buffer. Used by {@link Codec} only; the writer owns its
 * buffer until {@link #finish()} hands it over.
 */
public final class WireWriter {
  private ByteBuffer buf;

  WireWriter(int initialCapacity) {
    buf = ByteBuffer.allocate(initialCapacity);
  }

  private void ensure(int more) {
    if (buf.remaining() < more) {
      int cap = Math.max(buf.capacity() * 2, buf.position() + more);
      ByteBuffer bigger = ByteBuffer.allocate(cap);
      buf.flip();
      bigger.put(buf);
      buf = bigger;
    }
  }

  public WireWriter putByte(int v) {
    ensure(1);
    buf.put((byte) v);
    return this;
  }

  public WireWriter putBoolean(boolean v) {
    return putByte(v ? 1 : 0);
  }

  public WireWriter putShort(int v) {
    ensure(2);
    buf.putShort((short) v);
    return this;
  }

  public WireWriter putInt(int v) {
    ensure(4);
    buf.putInt(v);
    return this;
  }

  public WireWriter putLong(long v) {
    ensure(8);
    buf.putLong(v);
    return this;
  }

  /** A UTF-8 string with a 16-bit length; the caller's limit is checked by the reader on the other side. */
  public WireWriter putString(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length > 0xFFFF) {
      throw new IllegalArgumentException("string too long for the wire: " + b.length + " bytes");
    }
    putShort(b.length);
    ensure(b.length);
    buf.put(b);
    return this;
  }

  /** Bytes with no length before them: the reader knows how many. */
  WireWriter putRaw(byte[] b) {
    ensure(b.length);
    buf.put(b);
    return this;
  }

  /** A byte array with a 32-bit length. */
  public WireWriter putBytes(byte[] b) {
    putInt(b.length);
    ensure(b.length);
    buf.put(b);
    return this;
  }

  /** The remaining bytes of {@code data} with a 32-bit length; {@code data}'s position is not moved. */
  public WireWriter putData(ByteBuffer data) {
    int n = data.remaining();
    putInt(n);
    ensure(n);
    buf.put(data.duplicate());
    return this;
  }

  /** A handle's length in one byte, then its bytes. */
  public WireWriter putHandle(FileHandle h) {
    byte[] b = h.bytes();
    putByte(b.length);
    ensure(b.length);
    buf.put(b);
    return this;
  }

  int position() {
    return buf.position();
  }

  void putIntAt(int index, int v) {
    buf.putInt(index, v);
  }

  /** Hands the written bytes over as a buffer positioned at 0; the writer must not be used afterwards. */
  ByteBuffer finish() {
    ByteBuffer out = buf.flip();
    buf = null;
    return out;
  }
}
