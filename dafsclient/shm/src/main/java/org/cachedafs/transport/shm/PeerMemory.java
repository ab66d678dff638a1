package org.cachedafs.transport.shm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.RemoteAccessException;

/**
 * What the peer exposed to this connection: its segments, mapped here, and the regions it announced
 * in them. Changed only by control records (under the control channel's lock), read by any thread
 * that runs a one-sided operation.
 *
 * <p>A segment's mapping is guarded: an operation enters the guard for the length of its copy, and
 * a segment the peer closed (or every segment, when the connection closes) is unmapped once the
 * last copy has left. Regions closed lately are remembered (a bounded number), so that a write into
 * one is dropped rather than treated as a forged descriptor.
 */
final class PeerMemory {
  /** At most this many segments of one peer are mapped at a time. */
  static final int MAX_SEGMENTS = 4096;
  /** At most this many regions of one peer are known at a time. */
  static final int MAX_REGIONS = 1 << 16;
  /** At most this many bytes of one peer are mapped at a time (address space, not memory). */
  static final long MAX_MAPPED_BYTES = 1L << 40;
  private static final int RECENTLY_CLOSED = 4096;

  /** A peer's segment as mapped here. */
  static final class Segment {
    final long id;
    final int length;
    final Access access;
    private final MappedByteBuffer mapping;
    private final Guard guard;

    Segment(long id, int length, Access access, MappedByteBuffer mapping) {
      this.id = id;
      this.length = length;
      this.access = access;
      this.mapping = mapping;
      this.guard = new Guard(() -> Mappings.unmap(mapping));
    }

    boolean writable() {
      return !mapping.isReadOnly();
    }

    /** Read-only-ness as the kernel sees it: for tests. */
    MappedByteBuffer mapping() {
      return mapping;
    }
  }

  /** A region the peer announced. */
  record Region(long key, Segment segment, int offset, int length, Access access) {}

  /** A range of a peer's segment that an operation may copy through, with its guard entered. */
  static final class Target {
    private final Segment segment;
    final ByteBuffer memory;

    private Target(Segment segment, ByteBuffer memory) {
      this.segment = segment;
      this.memory = memory;
    }

    /** Leaves the segment's guard: the memory must not be touched after this. */
    void release() {
      segment.guard.exit();
    }
  }

  private final Native nat;
  private final Map<Long, Segment> segments = new ConcurrentHashMap<>();
  private final Map<Long, Region> regions = new ConcurrentHashMap<>();
  /** Guarded by itself. */
  private final LinkedHashSet<Long> recentlyClosed = new LinkedHashSet<>();
  /** Guarded by the control lock. */
  private long mappedBytes;
  private volatile boolean closed;

  PeerMemory(Native nat) {
    this.nat = nat;
  }

  // -- control records (under the control lock)

  /** Maps a segment the peer sent; closes {@code fd} whatever happens. */
  void addSegment(long id, int length, Access access, int fd) throws IOException {
    try {
      if (access == Access.LOCAL) {
        throw new PeerViolation("segment " + Long.toHexString(id) + " announced without remote access");
      }
      if (length <= 0) {
        throw new PeerViolation("segment " + Long.toHexString(id) + " announced with " + length + " bytes");
      }
      if (segments.containsKey(id)) {
        throw new PeerViolation("segment " + Long.toHexString(id) + " announced twice");
      }
      if (segments.size() >= MAX_SEGMENTS || mappedBytes + length > MAX_MAPPED_BYTES) {
        throw new PeerViolation("the peer exposes more than " + MAX_SEGMENTS + " segments or " + MAX_MAPPED_BYTES + " bytes");
      }
      checkMemoryFile(nat, fd, "segment " + Long.toHexString(id));
      MappedByteBuffer mapping;
      try {
        mapping = Mappings.map(fd, length, access.remoteWrite());
      } catch (IOException e) {
        throw new PeerViolation("segment " + Long.toHexString(id) + " cannot be mapped as announced (" + access + ")", e);
      }
      Segment s = new Segment(id, length, access, mapping);
      segments.put(id, s);
      mappedBytes += length;
      if (closed && segments.remove(id, s)) {
        s.guard.close(); // the connection closed meanwhile: closeAll may have missed it
      }
    } finally {
      nat.closeQuietly(fd);
    }
  }

  /**
   * Checks that a descriptor the peer sent is memory this side can map without ever faulting: a
   * plain memfd (shmem; a hugetlb one faults when the pool of huge pages runs dry), sealed against
   * shrinking (a file cut short under a mapping faults on access).
   */
  static void checkMemoryFile(Native nat, int fd, String what) throws PeerViolation {
    try {
      if (nat.fileSystemType(fd) != Native.TMPFS_MAGIC) {
        throw new PeerViolation(what + " is not a plain memory file");
      }
      if ((nat.seals(fd) & Native.F_SEAL_SHRINK) == 0) {
        throw new PeerViolation(what + " is not sealed against shrinking");
      }
    } catch (PeerViolation e) {
      throw e;
    } catch (IOException e) {
      throw new PeerViolation(what + " is not a sealed memory file", e);
    }
  }

  void addRegion(long key, long segmentId, int offset, int length, Access access) throws PeerViolation {
    Segment s = segments.get(segmentId);
    if (s == null) {
      throw new PeerViolation("region " + Long.toHexString(key) + " in segment " + Long.toHexString(segmentId) + ", which was never announced");
    }
    if (regions.containsKey(key) || regions.size() >= MAX_REGIONS) {
      throw new PeerViolation("region " + Long.toHexString(key) + " announced twice, or more than " + MAX_REGIONS + " regions");
    }
    if (offset < 0 || length < 0 || offset > s.length - length) {
      throw new PeerViolation("region " + Long.toHexString(key) + " of " + length + " bytes at " + offset + " lies outside its segment of " + s.length);
    }
    if (access == Access.LOCAL || (access.remoteWrite() && !s.access.remoteWrite()) || (access.remoteRead() && !s.access.remoteRead())) {
      throw new PeerViolation("region " + Long.toHexString(key) + " announced with " + access + " in a " + s.access + " segment");
    }
    regions.put(key, new Region(key, s, offset, length, access));
  }

  void closeRegion(long key) throws PeerViolation {
    if (regions.remove(key) == null && !wasClosed(key)) {
      throw new PeerViolation("the peer closed region " + Long.toHexString(key) + ", which it never announced");
    }
    rememberClosed(key);
  }

  void closeSegment(long id) throws PeerViolation {
    Segment s = segments.remove(id);
    if (s == null) {
      throw new PeerViolation("the peer closed segment " + Long.toHexString(id) + ", which it never announced");
    }
    for (Region r : new ArrayList<>(regions.values())) {
      if (r.segment == s && regions.remove(r.key, r)) {
        rememberClosed(r.key);
      }
    }
    mappedBytes -= s.length;
    s.guard.close();
  }

  private void rememberClosed(long key) {
    synchronized (recentlyClosed) {
      recentlyClosed.add(key);
      if (recentlyClosed.size() > RECENTLY_CLOSED) {
        recentlyClosed.remove(recentlyClosed.iterator().next());
      }
    }
  }

  private boolean wasClosed(long key) {
    synchronized (recentlyClosed) {
      return recentlyClosed.contains(key);
    }
  }

  // -- one-sided operations (any thread)

  /**
   * The peer memory {@code d} names, {@code length} bytes at {@code offset} within the region, with
   * its guard entered (the caller {@linkplain Target#release releases} it); null if the peer closed
   * the region lately (a write into it is dropped).
   *
   * @throws RemoteAccessException if the descriptor names nothing the peer exposed to this
   *     connection, or the range is outside it, or the access is not allowed
   * @throws ClosedChannelException if the connection closed and forgot the peer's regions meanwhile
   */
  Target resolve(Descriptor d, long offset, int length, boolean write) throws RemoteAccessException, ClosedChannelException {
    Region r = regions.get(d.key());
    if (r == null) {
      if (wasClosed(d.key())) {
        return null;
      }
      if (closed) {
        // The connection closed under the operation and forgot the peer's regions: that says nothing
        // of the descriptor, and must not read as a remote access error (a server would answer the
        // request BAD_REGION and keep that answer for the client's retransmission).
        throw new ClosedChannelException();
      }
      throw new RemoteAccessException(d + " names no region the peer exposed to this connection");
    }
    if (r.segment.id != d.segment() || r.offset != d.offset() || r.length != d.length()) {
      throw new RemoteAccessException(d + " does not match what the peer announced for it");
    }
    if (write ? !r.access.remoteWrite() : !r.access.remoteRead()) {
      throw new RemoteAccessException(d + " is " + r.access + ": no remote " + (write ? "write" : "read"));
    }
    if (offset < 0 || length < 0 || offset > r.length - (long) length) {
      throw new RemoteAccessException(length + " bytes at " + offset + " are outside " + d);
    }
    if (write && !r.segment.writable()) {
      throw new RemoteAccessException(d + " is mapped read-only");
    }
    if (!r.segment.guard.enter()) {
      return null; // closed a moment ago
    }
    ByteBuffer memory = r.segment.mapping.slice(r.offset + (int) offset, length);
    return new Target(r.segment, memory);
  }

  /** Whether the peer closed the region lately, or it names nothing (for reads: both are errors). */
  boolean closedLately(long key) {
    return wasClosed(key);
  }

  /** The segment with this id, for tests. */
  Segment segment(long id) {
    return segments.get(id);
  }

  int segmentCount() {
    return segments.size();
  }

  /** Forgets everything and unmaps each segment once no copy runs through it. */
  void closeAll() {
    closed = true;
    regions.clear();
    for (Segment s : new ArrayList<>(segments.values())) {
      segments.remove(s.id);
      s.guard.close();
    }
  }
}
