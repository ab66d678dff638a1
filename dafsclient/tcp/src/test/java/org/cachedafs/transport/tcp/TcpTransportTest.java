package org.cachedafs.transport.tcp;

import org.cachedafs.transport.Transport;
import org.cachedafs.transport.testkit.TransportTestKit;
import org.cachedafs.transport.Transports;

class TcpTransportTest extends TransportTestKit {
  @Override
  protected Transport transport() {
    return Transports.forScheme("tcp");
  }
}
