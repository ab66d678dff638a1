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

/** The tcp transport's protection domain: a table from random keys to registered regions. */
final class TcpDomain implements MemoryDomain {
  private final Map<Long, TcpRegion> regions = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final LongAdder registrations = new LongAdder();
  private final LongAdder placedBytes = new LongAdder();
  private final AtomicLong largestMessage = new AtomicLong();
  private final LongAdder discardedBytes = new LongAdder();
  /** Guarded by itself: tags deregistered lately, oldest first, so late transfers into them are drained. */
  private final java.util.LinkedHashSet<Long> recentlyClosed = new java.util.LinkedHashSet<>();
  private static final int RECENTLY_CLOSED = 4096;
  private volatile boolean closed;

  /** Tcp places nothing specially: allocated memory is a direct buffer that the region keeps alive. */
  @Override
  public Region allocate(int length, Access access) {
    if (length <= 0) {
      throw new IllegalArgumentException("cannot allocate " + length + " bytes");
    }
    return register(ByteBuffer.allocateDirect(length), access);
  }

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
      long key = random.nextLong();
      if (key == 0 || recentlyClosed(key)) {
        continue;
      }
      TcpRegion region = new TcpRegion(this, key, memory, access);
      if (regions.putIfAbsent(key, region) == null) {
        registrations.increment();
        return region;
      }
    }
  }

  void deregister(TcpRegion region) {
    if (regions.remove(region.key(), region)) {
      synchronized (recentlyClosed) {
        recentlyClosed.add(region.key());
        if (recentlyClosed.size() > RECENTLY_CLOSED) {
          recentlyClosed.remove(recentlyClosed.iterator().next());
        }
      }
    }
  }

  /** Whether the key named a region of this domain that has since been closed. */
  boolean recentlyClosed(long key) {
    synchronized (recentlyClosed) {
      return recentlyClosed.contains(key);
    }
  }

  void discarded(long bytes) {
    discardedBytes.add(bytes);
  }

  /** The region a peer names, or null. */
  TcpRegion lookup(long key) {
    return regions.get(key);
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
