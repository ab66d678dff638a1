package org.cachedafs.transport.shm;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteRegion;

/**
 * A registered range of one {@link ShmSegment}: the whole of it for a region the domain allocated
 * (which owns the segment), or part of it for one {@link ShmDomain#register registered} over memory
 * the domain allocated (which owns nothing). Owned by whoever allocated or registered it;
 * {@link #close} is its release.
 */
final class ShmRegion implements Region {
  private final ShmDomain domain;
  final ShmSegment segment;
  final int offset;
  private final int length;
  private final Access access;
  final long key;
  /** Whether this region owns its segment (it was allocated, not registered). */
  final boolean owner;
  private final AtomicBoolean closed = new AtomicBoolean();

  ShmRegion(ShmDomain domain, ShmSegment segment, int offset, int length, Access access, long key, boolean owner) {
    this.domain = domain;
    this.segment = segment;
    this.offset = offset;
    this.length = length;
    this.access = access;
    this.key = key;
    this.owner = owner;
  }

  @Override
  public int length() {
    return length;
  }

  @Override
  public Access access() {
    return access;
  }

  @Override
  public ByteBuffer buffer() {
    return segment.view(offset, length);
  }

  /** A view of {@code [at, at + n)} of the region; the caller has checked the bounds. */
  ByteBuffer slice(int at, int n) {
    return segment.view(offset + at, n);
  }

  boolean contains(long at, long n) {
    return at >= 0 && n >= 0 && at <= length - n;
  }

  @Override
  public RemoteRegion remote() {
    return new Descriptor(key, segment.id, offset, length).toRemote();
  }

  @Override
  public boolean belongsTo(MemoryDomain d) {
    return d == domain;
  }

  boolean isClosed() {
    return closed.get() || segment.isClosed();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      domain.closed(this); // peers hear of it before the memory goes
      if (owner) {
        segment.close();
      }
    }
  }

  @Override
  public String toString() {
    return "ShmRegion[key=" + Long.toHexString(key) + ", " + length + " bytes at " + offset + " of " + segment + ", " + access
        + (closed.get() ? ", closed" : "") + "]";
  }
}
