package org.cachedafs.transport.shm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.Access;
import org.slf4j.Logger;

/**
 * One allocation of a domain: an anonymous memory file (memfd) of exactly the region's length,
 * mapped here, sealed so that nobody (the peer included) can shrink or grow it, and for
 * {@link Access#REMOTE_READ} sealed against every new writable mapping or write (F_SEAL_FUTURE_WRITE),
 * which only this side's existing mapping escapes.
 *
 * <p>Owned by the region {@link ShmDomain#allocate} returned; {@link #close} is its release: the
 * descriptor is closed and this side's mapping is replaced by anonymous memory, so the file's pages
 * are freed once the peers have unmapped it too, while a stale view of the region reads zeros instead
 * of faulting. Memory files are never reused, so a peer's late write lands in pages nobody else sees.
 */
final class ShmSegment {
  private static final Logger log = Loggers.get(ShmSegment.class);

  final long id;
  final int length;
  final Access access;
  private final Native nat;
  /** The memory file, kept open while peers may still need a descriptor of it; -1 for LOCAL memory. */
  private final int fd;
  private final MappedByteBuffer mapping;
  final long address;
  private volatile boolean closed;

  private ShmSegment(Native nat, long id, int length, Access access, int fd, MappedByteBuffer mapping) {
    this.nat = nat;
    this.id = id;
    this.length = length;
    this.access = access;
    this.fd = fd;
    this.mapping = mapping;
    this.address = nat.address(mapping);
  }

  static ShmSegment create(Native nat, String name, long id, int length, Access access) throws IOException {
    int fd = nat.memfd(name);
    MappedByteBuffer mapping = null;
    try {
      nat.ftruncate(fd, length);
      mapping = Mappings.map(fd, length, true);
      int seals = Native.F_SEAL_SHRINK | Native.F_SEAL_GROW | Native.F_SEAL_SEAL;
      if (access == Access.REMOTE_READ) {
        seals |= Native.F_SEAL_FUTURE_WRITE; // after our own writable mapping exists, before any peer has the file
      }
      nat.addSeals(fd, seals);
      if (access == Access.LOCAL) {
        nat.closeQuietly(fd); // never shared: the mapping alone keeps it
        return new ShmSegment(nat, id, length, access, -1, mapping);
      }
      return new ShmSegment(nat, id, length, access, fd, mapping);
    } catch (IOException | RuntimeException e) {
      if (mapping != null) {
        Mappings.unmap(mapping);
      }
      nat.closeQuietly(fd);
      throw e;
    }
  }

  /**
   * A new descriptor of the file for one peer, which the caller hands on and closes: read-only for a
   * REMOTE_READ segment (and the seal keeps it so even if the peer reopens it), else read-write.
   * Only while the segment is open.
   */
  int descriptorForPeer() throws IOException {
    if (fd < 0) {
      throw new IllegalStateException("local memory is never shared");
    }
    return access == Access.REMOTE_READ ? nat.reopenReadOnly(fd) : nat.dup(fd);
  }

  /** A view of {@code [offset, offset + length)}; valid until close. */
  ByteBuffer view(int offset, int length) {
    return mapping.slice(offset, length);
  }

  boolean isClosed() {
    return closed;
  }

  /** Frees this side's hold on the memory (see the class comment). The owning region calls it once. */
  void close() {
    closed = true;
    try {
      nat.replaceWithAnonymous(address, length);
    } catch (IOException e) {
      log.warn("segment {}: could not release its mapping now, the garbage collector will: {}", Long.toHexString(id), e.getMessage());
    }
    nat.closeQuietly(fd);
  }

  @Override
  public String toString() {
    return "segment " + Long.toHexString(id) + " (" + length + " bytes, " + access + (closed ? ", closed" : "") + ")";
  }
}
