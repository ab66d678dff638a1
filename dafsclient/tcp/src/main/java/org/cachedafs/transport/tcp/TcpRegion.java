package org.cachedafs.transport.tcp;

import java.nio.ByteBuffer;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;

/** A registered buffer in a {@link TcpDomain}. Owned by whoever registered it; {@link #close} releases it. */
final class TcpRegion implements Region {
  private final TcpDomain domain;
  private final int tag;
  private final ByteBuffer memory;
  private final Access access;
  private volatile boolean closed;

  TcpRegion(TcpDomain domain, int tag, ByteBuffer memory, Access access) {
    this.domain = domain;
    this.tag = tag;
    this.memory = memory;
    this.access = access;
  }

  @Override
  public int tag() {
    return tag;
  }

  @Override
  public int length() {
    return memory.capacity();
  }

  @Override
  public Access access() {
    return access;
  }

  @Override
  public ByteBuffer buffer() {
    return memory.duplicate().clear();
  }

  /** A view of {@code [offset, offset + length)}; the caller has checked the bounds. */
  ByteBuffer slice(long offset, int length) {
    return memory.slice((int) offset, length);
  }

  boolean contains(long offset, long length) {
    return offset >= 0 && length >= 0 && offset <= memory.capacity() - length;
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public boolean belongsTo(MemoryDomain d) {
    return d == domain;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      domain.deregister(this);
    }
  }

  @Override
  public String toString() {
    return "TcpRegion[tag=" + Integer.toHexString(tag) + ", length=" + length() + ", " + access + (closed ? ", closed" : "") + "]";
  }
}
