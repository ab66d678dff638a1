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
      if (tag == 0) {
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
    regions.remove(region.tag(), region);
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
    return new DomainStats(registrations.sum(), placedBytes.sum(), 0, largestMessage.get());
  }

  @Override
  public void close() {
    closed = true;
    for (TcpRegion r : new ArrayList<>(regions.values())) {
      r.close();
    }
  }
}
