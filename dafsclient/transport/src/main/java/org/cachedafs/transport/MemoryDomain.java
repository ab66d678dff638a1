package org.cachedafs.transport;

import java.nio.ByteBuffer;

/**
 * A protection domain: the memory a set of connections may move data into and out of. Registering
 * is expensive on real hardware (it pins pages and programs the NIC), so callers register large
 * buffers once and carve them up, never per I/O.
 */
public interface MemoryDomain extends AutoCloseable {
  /**
   * Registers a direct buffer's memory from its position to its limit. The caller keeps owning the
   * buffer and must not free it before the region is closed; the domain holds a reference to it.
   *
   * @throws IllegalArgumentException if the buffer is not direct
   */
  Region register(ByteBuffer buffer, Access access);

  /** Registrations and transfers so far. */
  DomainStats stats();

  /** Deregisters every region still registered. */
  @Override
  void close();
}
