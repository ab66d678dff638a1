package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.RdmaCm;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaEventChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.DomainStats;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;

/**
 * A protection domain on one RDMA device: one {@link IbvPd}, and every region one memory region,
 * registered once when it is made and deregistered once when it closes (a counter in {@link #stats}
 * shows how many registrations there were).
 *
 * <p>Owns, and releases in {@link #close} in reverse order of creation: its event channel, the
 * private connection-manager id bound to the device's address (which is how DiSNI reaches a device's
 * context, see {@link Device}), the protection domain, and the regions still open. The device context
 * itself belongs to librdmacm, which shares it among all ids on the device.
 */
final class RdmaDomain implements MemoryDomain {
  private final Object lock = new Object();
  private final RdmaEventChannel events;
  private final RdmaCmId id;
  private final IbvPd pd;
  private final LongAdder registrations = new LongAdder();
  /** Bytes this side's RDMA READs placed in the domain's regions (a peer's RDMA WRITEs are never seen). */
  private final LongAdder placed = new LongAdder();
  /**
   * Connections whose queue pairs use the PD, so that closing the domain closes them first: a PD
   * with a queue pair on it cannot be deallocated.
   */
  private final Set<RdmaConnection> connections = new LinkedHashSet<>();
  /** Open regions, so that the domain can deregister what is left when it closes. */
  private final Set<RdmaRegion> regions = new LinkedHashSet<>();
  private boolean closed;

  private RdmaDomain(RdmaEventChannel events, RdmaCmId id, IbvPd pd) {
    this.events = events;
    this.id = id;
    this.pd = pd;
  }

  /** Opens a domain on the device whose interface has {@code address}. */
  static RdmaDomain open(InetAddress address) throws IOException {
    RdmaCm cm = RdmaCm.open();
    RdmaEventChannel events = cm.createEventChannel();
    RdmaCmId id = null;
    try {
      id = events.createId(RdmaCm.RDMA_PS_TCP);
      id.bindAddr(new InetSocketAddress(address, 0));
      IbvPd pd = id.getVerbs().allocPd();
      return new RdmaDomain(events, id, pd);
    } catch (IOException | RuntimeException e) {
      if (id != null) {
        id.destroyId();
      }
      events.destroyEventChannel();
      throw e;
    }
  }

  @Override
  public Region allocate(int length, Access access) {
    if (length <= 0) {
      throw new IllegalArgumentException("length must be positive, not " + length);
    }
    // Zeroed, and kept reachable by the region until it is deregistered.
    return doRegister(ByteBuffer.allocateDirect(length), access);
  }

  @Override
  public Region register(ByteBuffer buffer, Access access) {
    if (!buffer.isDirect()) {
      throw new IllegalArgumentException("only a direct buffer can be registered");
    }
    return doRegister(buffer.slice(), access);
  }

  private Region doRegister(ByteBuffer memory, Access access) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("domain is closed");
      }
      IbvMr mr;
      try {
        mr = pd.regMr(memory, flags(access)).execute().free().getMr();
      } catch (IOException e) {
        throw new UncheckedIOException("memory registration of " + memory.capacity() + " bytes failed", e);
      }
      registrations.increment();
      RdmaRegion region = new RdmaRegion(this, memory, mr, access);
      regions.add(region);
      return region;
    }
  }

  /** Local write always: the provider's own receives and RDMA READs write into regions. */
  private static int flags(Access access) {
    int flags = IbvMr.IBV_ACCESS_LOCAL_WRITE;
    if (access.remoteRead()) {
      flags |= IbvMr.IBV_ACCESS_REMOTE_READ;
    }
    if (access.remoteWrite()) {
      flags |= IbvMr.IBV_ACCESS_REMOTE_WRITE;
    }
    return flags;
  }

  /** Deregisters a region's memory; called once, by {@link RdmaRegion#close}. */
  void deregister(RdmaRegion region) {
    synchronized (lock) {
      regions.remove(region);
      try {
        region.mr().deregMr().execute().free();
      } catch (IOException e) {
        throw new UncheckedIOException("deregistration failed", e);
      }
    }
  }

  @Override
  public DomainStats stats() {
    return new DomainStats(registrations.sum(), placed.sum(), 0, 0, 0);
  }

  IbvPd protectionDomain() {
    return pd;
  }

  /** Counts bytes an RDMA READ of this side placed in one of the domain's regions. */
  void placed(long bytes) {
    placed.add(bytes);
  }

  /** A connection now uses this domain's PD; false if the domain is closed. */
  boolean attach(RdmaConnection c) {
    synchronized (lock) {
      if (closed) {
        return false;
      }
      connections.add(c);
      return true;
    }
  }

  /** The connection released its queue pair. */
  void detach(RdmaConnection c) {
    synchronized (lock) {
      connections.remove(c);
    }
  }

  @Override
  public void close() {
    List<RdmaRegion> left;
    List<RdmaConnection> users;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      users = new ArrayList<>(connections);
    }
    // Connections first (each close waits for its queue pair to go), then what they registered.
    for (RdmaConnection c : users) {
      c.close();
    }
    synchronized (lock) {
      left = new ArrayList<>(regions);
    }
    for (RdmaRegion r : left) {
      r.close();
    }
    try {
      pd.deallocPd();
      id.destroyId();
      events.destroyEventChannel();
    } catch (Exception e) {
      throw new IllegalStateException("releasing the protection domain failed", e);
    }
  }
}
