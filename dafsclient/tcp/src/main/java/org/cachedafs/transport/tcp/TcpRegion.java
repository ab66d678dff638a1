package org.cachedafs.transport.tcp;

import java.nio.ByteBuffer;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteRegion;

/** A registered buffer in a {@link TcpDomain}. Owned by whoever registered it; {@link #close} releases it. */
final class TcpRegion implements Region {
  private final TcpDomain domain;
  private final long key;
  private final ByteBuffer memory;
  private final Access access;
  private volatile boolean closed;

  TcpRegion(TcpDomain domain, long key, ByteBuffer memory, Access access) {
    this.domain = domain;
    this.key = key;
    this.memory = memory;
    this.access = access;
  }

  long key() {
    return key;
  }

  @Override
  public RemoteRegion remote() {
    return RemoteRegion.of(ByteBuffer.allocate(TcpWire.DESCRIPTOR_BYTES).putLong(key).array());
  }

  /** The key a tcp descriptor carries. */
  static long keyOf(RemoteRegion r) {
    if (r.size() != TcpWire.DESCRIPTOR_BYTES) {
      throw new IllegalArgumentException(r + " is not a tcp region descriptor");
    }
    long k = 0;
    for (int i = 0; i < TcpWire.DESCRIPTOR_BYTES; i++) {
      k = (k << 8) | (r.byteAt(i) & 0xff);
    }
    return k;
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
    return "TcpRegion[key=" + Long.toHexString(key) + ", length=" + length() + ", " + access + (closed ? ", closed" : "") + "]";
  }
}
