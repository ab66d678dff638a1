package org.cachedafs.protocol;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The name of a client's registered region, as its transport made it (an address and rkey on verbs,
 * a key on tcp, a segment on shm). The protocol carries it as 1 to {@link Limits#MAX_DESCRIPTOR}
 * opaque bytes and never looks inside.
 */
public final class RegionDescriptor {
  private final byte[] bytes;

  private RegionDescriptor(byte[] bytes) {
    this.bytes = bytes;
  }

  /** @throws IllegalArgumentException if {@code bytes} is empty or too long */
  public static RegionDescriptor of(byte[] bytes) {
    if (bytes.length == 0 || bytes.length > Limits.MAX_DESCRIPTOR) {
      throw new IllegalArgumentException("a region descriptor has 1 to " + Limits.MAX_DESCRIPTOR + " bytes, not " + bytes.length);
    }
    return new RegionDescriptor(bytes.clone());
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  void encode(WireWriter w) {
    w.putByte(bytes.length);
    w.putRaw(bytes);
  }

  static RegionDescriptor decode(WireReader r) throws MalformedFrameException {
    int n = r.getByte();
    if (n < 1 || n > Limits.MAX_DESCRIPTOR) {
      throw new MalformedFrameException("region descriptor of " + n + " bytes outside [1, " + Limits.MAX_DESCRIPTOR + "]");
    }
    return new RegionDescriptor(r.getRaw("region descriptor", n));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RegionDescriptor d && Arrays.equals(bytes, d.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(bytes);
  }
}
