package org.cachedafs.transport.shm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.DomainStats;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;

/**
 * The shm protection domain: its segments, the regions over them, and the admitted connections that
 * use it. Every region with remote access is announced to every connection of the domain: to those
 * open when it is allocated or registered (before that call returns), and to later ones when they
 * are admitted. Closing a region takes it back from all of them.
 */
final class ShmDomain implements MemoryDomain {
  private final Native nat;
  /** Random, names this domain's memory files (as seen in /proc/PID/maps); never part of a descriptor. */
  private final String tag;
  private final SecureRandom random = new SecureRandom();
  private final Object lock = new Object();
  /** Open regions by key; changed under lock. */
  private final Map<Long, ShmRegion> regions = new ConcurrentHashMap<>();
  /** Open segments by the address of their mapping, to recognize registered views of them. */
  private final ConcurrentSkipListMap<Long, ShmSegment> segments = new ConcurrentSkipListMap<>();
  /** Guarded by lock. */
  private final LinkedHashSet<ShmConnection> connections = new LinkedHashSet<>();
  private final LongAdder registrations = new LongAdder();
  private final LongAdder placedBytes = new LongAdder();
  private final AtomicLong largestMessage = new AtomicLong();
  /** Guarded by lock. */
  private boolean closed;

  ShmDomain(Native nat) {
    this.nat = nat;
    this.tag = String.format("%08x", random.nextInt());
  }

  String tag() {
    return tag;
  }

  /** The name of this domain's memory files; {@code kind} tells a ring file from a segment. */
  String memoryFileName(String kind) {
    return "dafs-shm-" + tag + "-" + kind;
  }

  @Override
  public Region allocate(int length, Access access) {
    if (length <= 0) {
      throw new IllegalArgumentException("cannot allocate " + length + " bytes");
    }
    checkOpen();
    ShmSegment segment;
    try {
      segment = ShmSegment.create(nat, memoryFileName("seg"), randomId(), length, access);
    } catch (IOException e) {
      throw new UncheckedIOException("could not allocate " + length + " bytes of shared memory", e);
    }
    ShmRegion region = new ShmRegion(this, segment, 0, length, access, newKey(), true);
    segments.put(segment.address, segment);
    add(region);
    return region;
  }

  @Override
  public Region register(ByteBuffer buffer, Access access) {
    if (!buffer.isDirect()) {
      throw new IllegalArgumentException("only direct buffers can be registered, and shm only memory it allocated: use MemoryDomain.allocate");
    }
    checkOpen();
    long address = nat.address(buffer);
    int length = buffer.remaining();
    Map.Entry<Long, ShmSegment> e = segments.floorEntry(address);
    ShmSegment s = e == null ? null : e.getValue();
    if (s == null || s.isClosed() || address + length > s.address + s.length) {
      throw new IllegalArgumentException("shm can only expose memory it allocated, and this buffer is not a view of this domain's: "
          + "use MemoryDomain.allocate");
    }
    if ((access.remoteRead() && !s.access.remoteRead()) || (access.remoteWrite() && !s.access.remoteWrite())) {
      throw new IllegalArgumentException("cannot register " + access + " over memory allocated " + s.access);
    }
    ShmRegion region = new ShmRegion(this, s, (int) (address - s.address), length, access, newKey(), false);
    add(region);
    return region;
  }

  private void checkOpen() {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("domain is closed");
      }
    }
  }

  private long randomId() {
    long id;
    do {
      id = random.nextLong();
    } while (id == 0);
    return id;
  }

  private long newKey() {
    while (true) {
      long key = randomId();
      if (!regions.containsKey(key)) {
        return key;
      }
    }
  }

  private void add(ShmRegion region) {
    List<ShmConnection> to = null;
    synchronized (lock) {
      if (!closed && regions.putIfAbsent(region.key, region) == null) {
        registrations.increment();
        to = region.access() == Access.LOCAL ? List.of() : new ArrayList<>(connections);
      }
    }
    if (to == null) {
      region.close(); // frees an allocated segment; outside the lock, as every call into a connection
      throw new IllegalStateException("domain is closed");
    }
    for (ShmConnection c : to) {
      c.announce(region);
    }
  }

  /** Admits a connection: it hears of every remote-access region from now on, starting with those open now. */
  void attach(ShmConnection c) {
    List<ShmRegion> open;
    synchronized (lock) {
      connections.add(c);
      open = new ArrayList<>();
      for (ShmRegion r : regions.values()) {
        if (r.access() != Access.LOCAL) {
          open.add(r);
        }
      }
    }
    for (ShmRegion r : open) {
      c.announce(r);
    }
    if (!c.isOpen()) {
      detach(c); // closed meanwhile, perhaps before it was added
    }
  }

  void detach(ShmConnection c) {
    synchronized (lock) {
      connections.remove(c);
    }
  }

  /** A region closed: every connection that heard of it hears that it is gone. */
  void closed(ShmRegion region) {
    List<ShmConnection> to;
    synchronized (lock) {
      regions.remove(region.key, region);
      if (region.owner) {
        segments.remove(region.segment.address, region.segment);
      }
      to = region.access() == Access.LOCAL ? List.of() : new ArrayList<>(connections);
    }
    for (ShmConnection c : to) {
      c.retract(region);
    }
  }

  /** The open region with this key that belongs to this domain, or null. */
  ShmRegion region(long key) {
    return regions.get(key);
  }

  void placed(long bytes) {
    placedBytes.add(bytes);
  }

  void messageAllocated(int bytes) {
    largestMessage.accumulateAndGet(bytes, Math::max);
  }

  /**
   * Peers never tell the owner of a region about their one-sided operations on it, so placed bytes
   * count only this side's reads, and nothing is ever staged or discarded here.
   */
  @Override
  public DomainStats stats() {
    return new DomainStats(registrations.sum(), placedBytes.sum(), 0, 0, largestMessage.get());
  }

  @Override
  public void close() {
    List<ShmRegion> open;
    synchronized (lock) {
      closed = true;
      open = new ArrayList<>(regions.values());
    }
    // Views first, then the regions that own segments, so that no view outlives its memory.
    for (ShmRegion r : open) {
      if (!r.owner) {
        r.close();
      }
    }
    for (ShmRegion r : open) {
      if (r.owner) {
        r.close();
      }
    }
  }

  @Override
  public String toString() {
    return "ShmDomain[" + tag + "]";
  }
}
