package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.IbvContext;
import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvPd;
import com.ibm.disni.verbs.RdmaCm;
import com.ibm.disni.verbs.RdmaCmId;
import com.ibm.disni.verbs.RdmaEventChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * A smoke test of the native library on a real device, run by hand or by the guest's script: through
 * DiSNI's verbs API it opens an event channel, binds a cm id to the device's address (which binds the
 * id to the device), allocates a protection domain, registers 1 MiB for local write and remote read
 * and write, and releases all of it in reverse order. Prints each step; exits non-zero at the first
 * failure.
 *
 * <p>Usage: {@code java --add-exports java.base/sun.nio.ch=ALL-UNNAMED -Djava.library.path=DIR -cp ...
 * org.cachedafs.transport.rdma.VerbsSmoke IPV4-ADDRESS-OF-THE-RDMA-DEVICE}
 */
final class VerbsSmoke {
  private VerbsSmoke() {}

  /**
   * The provider's domain: found through {@code Transports} like any provider, memory allocated and
   * registered, each registered once (the counter), a region's descriptor, and the release of both.
   */
  private static void domain() throws java.io.IOException {
    org.cachedafs.transport.Transport rdma = org.cachedafs.transport.Transports.forScheme("rdma");
    try (org.cachedafs.transport.MemoryDomain domain = rdma.openDomain()) {
      org.cachedafs.transport.Region allocated = domain.allocate(1 << 20, org.cachedafs.transport.Access.REMOTE_READ);
      ByteBuffer own = ByteBuffer.allocateDirect(64 << 10);
      org.cachedafs.transport.Region registered = domain.register(own, org.cachedafs.transport.Access.LOCAL);
      check(domain.stats().registrations() == 2, "registrations: " + domain.stats().registrations() + ", expected 2");
      check(allocated.remote().size() == RdmaRegion.DESCRIPTOR_BYTES, "descriptor of " + allocated.remote().size() + " bytes");
      check(allocated.belongsTo(domain) && allocated.length() == 1 << 20, "allocated region's domain or length");
      System.out.println("rdma domain: 2 regions registered once each, descriptor " + allocated.remote());
      registered.close();
      registered.close(); // idempotent
      allocated.buffer().putLong(0, 42); // the allocated region stays usable until its own close
      // allocated is left open: the domain deregisters it when it closes
    }
    System.out.println("rdma domain closed");
  }

  private static void check(boolean ok, String failure) throws java.io.IOException {
    if (!ok) {
      throw new java.io.IOException(failure);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: VerbsSmoke <IPv4 address of the RDMA device>");
      System.exit(2);
    }
    System.out.println("availability: " + (Availability.probe().available() ? "available" : Availability.probe().reason()));
    RdmaCm cm = RdmaCm.open();
    RdmaEventChannel channel = cm.createEventChannel();
    System.out.println("event channel: fd " + channel.getFd());
    RdmaCmId id = channel.createId(RdmaCm.RDMA_PS_TCP);
    try {
      id.bindAddr(new InetSocketAddress(InetAddress.getByName(args[0]), 0));
      System.out.println("bound to " + id.getSource());
      IbvContext context = id.getVerbs();
      System.out.println("context: cmd fd " + context.getCmd_fd() + ", completion vectors " + context.getNumCompVectors());
      IbvPd pd = context.allocPd();
      System.out.println("protection domain: handle " + pd.getHandle());
      // The buffer is the region's memory: it stays reachable until the region is deregistered.
      ByteBuffer memory = ByteBuffer.allocateDirect(1 << 20);
      int access = IbvMr.IBV_ACCESS_LOCAL_WRITE | IbvMr.IBV_ACCESS_REMOTE_WRITE | IbvMr.IBV_ACCESS_REMOTE_READ;
      IbvMr mr = pd.regMr(memory, access).execute().free().getMr();
      System.out.printf("memory region: addr 0x%x, length %d, lkey 0x%x, rkey 0x%x%n", mr.getAddr(), mr.getLength(), mr.getLkey(), mr.getRkey());
      mr.deregMr().execute().free();
      System.out.println("memory region deregistered");
      pd.deallocPd();
      System.out.println("protection domain deallocated");
    } finally {
      id.destroyId();
      channel.destroyEventChannel();
    }
    domain();
    System.out.println("VERBS SMOKE OK");
  }
}
