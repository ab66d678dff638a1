package org.cachedafs.transport;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A peer's registered region as this side names it: an opaque descriptor that only the provider
 * which made it interprets (on verbs: the region's address and rkey; on tcp: a random key; on shm:
 * a segment and its bounds). The protocol carries it as bytes, never looking inside.
 *
 * <p>A descriptor is a capability only in the sense that the peer checks it: a forged or stale one
 * of the right provider names nothing, and using it is a remote access error, which closes the
 * connection. One of another provider (wrong form) is refused locally, before anything is sent, with
 * {@link IllegalArgumentException}; {@link Connection#canName} tells them apart.
 */
public final class RemoteRegion {
  /** The longest descriptor any provider makes, in bytes. */
  public static final int MAX_DESCRIPTOR_BYTES = 32;

  private final byte[] descriptor;

  private RemoteRegion(byte[] descriptor) {
    this.descriptor = descriptor;
  }

  /**
   * A descriptor as received from the peer.
   *
   * @throws IllegalArgumentException if it is empty or longer than {@link #MAX_DESCRIPTOR_BYTES}
   */
  public static RemoteRegion of(byte[] descriptor) {
    if (descriptor.length == 0 || descriptor.length > MAX_DESCRIPTOR_BYTES) {
      throw new IllegalArgumentException("a region descriptor has 1 to " + MAX_DESCRIPTOR_BYTES + " bytes, not " + descriptor.length);
    }
    return new RemoteRegion(descriptor.clone());
  }

  /** A copy of the descriptor's bytes, to put on the wire. */
  public byte[] toBytes() {
    return descriptor.clone();
  }

  /** The descriptor's length in bytes. */
  public int size() {
    return descriptor.length;
  }

  /** Byte {@code i} of the descriptor, for providers that decode it without a copy. */
  public byte byteAt(int i) {
    return descriptor[i];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RemoteRegion r && Arrays.equals(descriptor, r.descriptor);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(descriptor);
  }

  @Override
  public String toString() {
    return "RemoteRegion[" + HexFormat.of().formatHex(descriptor) + "]";
  }
}
