package org.cachedafs.transport.tcp;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.DomainStats;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;

/** The tcp transport's protection domain: a table from random tags to registered regions. */
final class TcpDomain implements MemoryDomain {
  private final Map<Integer, TcpRegion> regions = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final LongAdder registrations = new LongAdder();
  private final LongAdder placedBytes = new LongAdder();
  private final AtomicLong largestMessage = new AtomicLong();
  private final LongAdder discardedBytes = new LongAdder();
  /** Guarded by itself: tags deregistered lately, oldest first, so late transfers into them are drained. */
  private final java.util.LinkedHashSet<Integer> recentlyClosed = new java.util.LinkedHashSet<>();
  private static final int RECENTLY_CLOSED = 4096;
  private volatile boolean closed;

  @Override
  public Region register(ByteBuffer buffer, Access access) {
    if (!buffer.isDirect()) {
      throw new IllegalArgumentException("only direct buffers can be registered");
    }
    if (closed) {
      throw new IllegalStateException("domain is closed");
    }
    ByteBuffer memory = buffer.slice();
    while (true) {
      int tag = random.nextInt();
      if (tag == 0 || recentlyClosed(tag)) {
        continue;
      }
      TcpRegion region = new TcpRegion(this, tag, memory, access);
      if (regions.putIfAbsent(tag, region) == null) {
        registrations.increment();
        return region;
      }
    }
  }

  void deregister(TcpRegion region) {
    if (regions.remove(region.tag(), region)) {
      synchronized (recentlyClosed) {
        recentlyClosed.add(region.tag());
        if (recentlyClosed.size() > RECENTLY_CLOSED) {
          recentlyClosed.remove(recentlyClosed.iterator().next());
        }
      }
    }
  }

  /** Whether the tag named a region of this domain that has since been closed. */
  boolean recentlyClosed(int tag) {
    synchronized (recentlyClosed) {
      return recentlyClosed.contains(tag);
    }
  }

  void discarded(long bytes) {
    discardedBytes.add(bytes);
  }

  /** The region a peer names, or null. */
  TcpRegion lookup(int tag) {
    return regions.get(tag);
  }

  void placed(long bytes) {
    placedBytes.add(bytes);
  }

  void messageAllocated(int bytes) {
    largestMessage.accumulateAndGet(bytes, Math::max);
  }

  @Override
  public DomainStats stats() {
    return new DomainStats(registrations.sum(), placedBytes.sum(), 0, discardedBytes.sum(), largestMessage.get());
  }

  @Override
  public void close() {
    closed = true;
    for (TcpRegion r : new ArrayList<>(regions.values())) {
      r.close();
    }
  }
}
