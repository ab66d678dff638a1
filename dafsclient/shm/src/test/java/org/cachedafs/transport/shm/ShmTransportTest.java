package org.cachedafs.transport.shm;

import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;
import org.cachedafs.transport.testkit.TransportTestKit;

class ShmTransportTest extends TransportTestKit {
  @Override
  protected Transport transport() {
    return Transports.forScheme("shm");
  }
}
