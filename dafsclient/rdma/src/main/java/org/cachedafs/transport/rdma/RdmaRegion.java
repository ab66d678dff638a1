package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.IbvMr;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteRegion;

/**
 * One memory region. Its descriptor is what verbs name it by: the virtual address (8 bytes) and the
 * rkey (4 bytes), little-endian. The region holds its memory (the buffer) until it is deregistered,
 * so the device never writes into memory that was freed; allocated memory is then left to the
 * collector, which frees a direct buffer's memory once nothing refers to it.
 */
final class RdmaRegion implements Region {
  static final int DESCRIPTOR_BYTES = 12;

  private final RdmaDomain domain;
  private final ByteBuffer memory;
  private final IbvMr mr;
  private final Access access;
  private final AtomicBoolean closed = new AtomicBoolean();

  RdmaRegion(RdmaDomain domain, ByteBuffer memory, IbvMr mr, Access access) {
    this.domain = domain;
    this.memory = memory;
    this.mr = mr;
    this.access = access;
  }

  IbvMr mr() {
    return mr;
  }

  /** The registered memory's virtual address, as work requests name it. */
  long address() {
    return mr.getAddr();
  }

  int lkey() {
    return mr.getLkey();
  }

  boolean isClosed() {
    return closed.get();
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

  @Override
  public RemoteRegion remote() {
    ByteBuffer d = ByteBuffer.allocate(DESCRIPTOR_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    d.putLong(mr.getAddr()).putInt(mr.getRkey());
    return RemoteRegion.of(d.array());
  }

  @Override
  public boolean belongsTo(MemoryDomain d) {
    return d == domain;
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      domain.deregister(this);
    }
  }
}
