package org.cachedafs.transport;

import java.nio.ByteBuffer;

/**
 * Registered memory. The tag is what a peer names it by (the rkey); it is random, so a peer cannot
 * guess another region's tag.
 */
public interface Region extends AutoCloseable {
  int tag();

  /** The registered length in bytes. */
  int length();

  Access access();

  /**
   * A view of the registered memory, positioned at 0 with the region's length as its limit. The view
   * does not retain the region: it is valid only until {@link #close}.
   */
  ByteBuffer buffer();

  /** What a peer needs to name this region. */
  default RemoteRegion remote() {
    return new RemoteRegion(tag(), length());
  }

  /** Whether this region belongs to {@code domain}. */
  boolean belongsTo(MemoryDomain domain);

  /** Deregisters; idempotent. Later transfers naming the tag fail. */
  @Override
  void close();
}
