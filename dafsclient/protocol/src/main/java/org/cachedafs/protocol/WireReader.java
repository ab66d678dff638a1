package org.cachedafs.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads big-endian fields from one received frame. Every length is checked against its limit and
 * against what is left of the frame before anything is allocated, so a hostile length can neither
 * allocate nor read past the frame: it becomes a {@link MalformedFrameException}.
 */
public final class WireReader {
  private final ByteBuffer buf;

  WireReader(ByteBuffer buf) {
    this.buf = buf;
  }

  private void need(int n, String what) throws MalformedFrameException {
    if (n < 0 || buf.remaining() < n) {
      throw new MalformedFrameException(what + " runs past the end of the frame");
    }
  }

  public int getByte() throws MalformedFrameException {
    need(1, "byte");
    return buf.get() & 0xFF;
  }

  public boolean getBoolean() throws MalformedFrameException {
    int b = getByte();
    if (b > 1) {
      throw new MalformedFrameException("boolean field holds " + b);
    }
    return b == 1;
  }

  public int getShort() throws MalformedFrameException {
    need(2, "short");
    return buf.getShort() & 0xFFFF;
  }

  public int getInt() throws MalformedFrameException {
    need(4, "int");
    return buf.getInt();
  }

  public long getLong() throws MalformedFrameException {
    need(8, "long");
    return buf.getLong();
  }

  /** An int that must lie in {@code [min, max]}. */
  public int getInt(String what, int min, int max) throws MalformedFrameException {
    int v = getInt();
    if (v < min || v > max) {
      throw new MalformedFrameException(what + " " + v + " outside [" + min + ", " + max + "]");
    }
    return v;
  }

  /** A long that must not be negative. */
  public long getOffset(String what) throws MalformedFrameException {
    long v = getLong();
    if (v < 0) {
      throw new MalformedFrameException(what + " is negative: " + v);
    }
    return v;
  }

  /** A UTF-8 string of at most {@code maxBytes}; invalid UTF-8 or an embedded NUL is malformed. */
  public String getString(String what, int maxBytes) throws MalformedFrameException {
    int n = getShort();
    if (n > maxBytes) {
      throw new MalformedFrameException(what + " is " + n + " bytes, limit " + maxBytes);
    }
    need(n, what);
    ByteBuffer slice = buf.slice(buf.position(), n);
    buf.position(buf.position() + n);
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(slice)
          .toString();
    } catch (CharacterCodingException e) {
      throw new MalformedFrameException(what + " is not valid UTF-8");
    }
    if (s.indexOf('\0') >= 0) {
      throw new MalformedFrameException(what + " contains a NUL character");
    }
    return s;
  }

  /** {@code n} bytes with no length before them. */
  byte[] getRaw(String what, int n) throws MalformedFrameException {
    need(n, what);
    byte[] b = new byte[n];
    buf.get(b);
    return b;
  }

  /** A byte array of exactly {@code expected} bytes. */
  public byte[] getBytes(String what, int expected) throws MalformedFrameException {
    int n = getInt();
    if (n != expected) {
      throw new MalformedFrameException(what + " is " + n + " bytes, expected " + expected);
    }
    need(n, what);
    byte[] b = new byte[n];
    buf.get(b);
    return b;
  }

  /** A length-prefixed payload of at most {@code maxBytes}, returned as a read-only view of the frame. */
  public ByteBuffer getData(String what, int maxBytes) throws MalformedFrameException {
    int n = getInt();
    if (n < 0 || n > maxBytes) {
      throw new MalformedFrameException(what + " length " + n + " outside [0, " + maxBytes + "]");
    }
    need(n, what);
    ByteBuffer slice = buf.slice(buf.position(), n).asReadOnlyBuffer();
    buf.position(buf.position() + n);
    return slice;
  }

  /** A handle: its length in one byte (1 to {@link Limits#MAX_HANDLE_BYTES}), then its bytes. */
  public FileHandle getHandle() throws MalformedFrameException {
    int n = getByte();
    if (n < 1 || n > Limits.MAX_HANDLE_BYTES) {
      throw new MalformedFrameException("file handle of " + n + " bytes outside [1, " + Limits.MAX_HANDLE_BYTES + "]");
    }
    return new FileHandle(getRaw("file handle", n));
  }

  /** A count for a list that follows, checked against {@code max}. */
  public int getCount(String what, int max) throws MalformedFrameException {
    return getInt(what, 0, max);
  }

  void expectEnd() throws MalformedFrameException {
    if (buf.hasRemaining()) {
      throw new MalformedFrameException(buf.remaining() + " trailing bytes after the body");
    }
  }
}
