package org.cachedafs.transport;

import java.nio.ByteBuffer;

/**
 * Registered memory. Its {@linkplain #remote descriptor} is what a peer names it by (the address and
 * rkey on verbs); it is unguessable, so a peer cannot reach a region it was not told of.
 */
public interface Region extends AutoCloseable {
  /** The registered length in bytes. */
  int length();

  Access access();

  /**
   * A view of the registered memory, positioned at 0 with the region's length as its limit. The view
   * does not retain the region: it is valid only until {@link #close}.
   */
  ByteBuffer buffer();

  /** What a peer needs to name this region in a one-sided operation. */
  RemoteRegion remote();

  /** Whether this region belongs to {@code domain}. */
  boolean belongsTo(MemoryDomain domain);

  /**
   * Deregisters; idempotent. Later transfers naming it fail. A region the domain
   * {@linkplain MemoryDomain#allocate allocated} also frees its memory here (once no peer can reach
   * it any more).
   */
  @Override
  void close();
}
