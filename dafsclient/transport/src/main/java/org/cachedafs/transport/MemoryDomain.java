package org.cachedafs.transport;

import java.nio.ByteBuffer;

/**
 * A protection domain: the memory a set of connections may move data into and out of. Registering
 * is expensive on real hardware (it pins pages and programs the NIC), so callers register large
 * buffers once and carve them up, never per I/O.
 *
 * <p>Memory comes two ways. {@link #allocate} lets the provider place it where its peers can reach
 * it (a shared mapping for {@code shm}, pinned or huge pages for {@code rdma}); every provider
 * supports it, and code that does not care where memory lives should use it. {@link #register} takes
 * memory the caller already has, which only some providers can expose
 * ({@link Capabilities#registersForeignMemory}).
 */
public interface MemoryDomain extends AutoCloseable {
  /**
   * Allocates {@code length} bytes of memory placed for this provider and registers them. The
   * returned region owns the memory: {@link Region#close} is its one release path, and the domain
   * closes what is left when it closes. The memory starts zeroed.
   *
   * @throws IllegalArgumentException if {@code length} is not positive
   * @throws IllegalStateException if the domain is closed
   * @throws java.io.UncheckedIOException if the provider could not get the memory (the cause says why)
   */
  Region allocate(int length, Access access);

  /**
   * Registers a direct buffer's memory from its position to its limit. The caller keeps owning the
   * buffer and must not free it before the region is closed; the domain holds a reference to it. A
   * provider that cannot expose foreign memory accepts only views of memory it
   * {@linkplain #allocate allocated} in this domain.
   *
   * @throws IllegalArgumentException if the buffer is not direct, or not memory this provider can expose
   */
  Region register(ByteBuffer buffer, Access access);

  /** Registrations and transfers so far. */
  DomainStats stats();

  /** Deregisters every region still registered, and frees what it allocated. */
  @Override
  void close();
}
