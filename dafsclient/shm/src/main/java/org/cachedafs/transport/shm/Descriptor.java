package org.cachedafs.transport.shm;

import java.nio.ByteBuffer;
import org.cachedafs.transport.RemoteRegion;

/**
 * What an shm {@link RemoteRegion} carries (24 bytes, big-endian): the region's random key, the
 * random id of the segment that holds it, and the region's offset and length within the segment.
 * A peer checks all four against what the owner announced on the connection, so a forged or stale
 * descriptor names nothing.
 */
record Descriptor(long key, long segment, int offset, int length) {
  static final int BYTES = 24;

  RemoteRegion toRemote() {
    return RemoteRegion.of(ByteBuffer.allocate(BYTES).putLong(key).putLong(segment).putInt(offset).putInt(length).array());
  }

  /**
   * @throws IllegalArgumentException if {@code r} is not an shm descriptor (a local mistake, like
   *     handing a tcp descriptor to an shm connection)
   */
  static Descriptor of(RemoteRegion r) {
    if (r.size() != BYTES) {
      throw new IllegalArgumentException(r + " is not an shm region descriptor");
    }
    ByteBuffer b = ByteBuffer.wrap(r.toBytes());
    return new Descriptor(b.getLong(), b.getLong(), b.getInt(), b.getInt());
  }

  @Override
  public String toString() {
    return "region " + Long.toHexString(key) + " (" + length + " bytes at " + offset + " of segment " + Long.toHexString(segment) + ")";
  }
}
