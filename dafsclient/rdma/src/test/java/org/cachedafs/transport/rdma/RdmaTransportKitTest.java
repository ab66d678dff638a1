package org.cachedafs.transport.rdma;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;
import org.cachedafs.transport.testkit.TransportTestKit;
import org.junit.jupiter.api.BeforeAll;

/**
 * The transport test kit on {@code rdma}: real queue pairs on a real device. Skipped, with the
 * provider's reason, where it is unavailable (this host: no RDMA device); run in the SoftRoCE guest
 * (vm/guest-run.sh), where it must not skip.
 */
class RdmaTransportKitTest extends TransportTestKit {
  @BeforeAll
  static void device() {
    RdmaTransport t = new RdmaTransport();
    assumeTrue(t.isAvailable(), t.unavailableReason());
  }

  @Override
  protected Transport transport() {
    return Transports.forScheme("rdma");
  }
}
