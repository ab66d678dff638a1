package org.cachedafs.transport.tcp;

import org.cachedafs.transport.Transport;
import org.cachedafs.transport.TransportConformanceTest;
import org.cachedafs.transport.Transports;

class TcpTransportTest extends TransportConformanceTest {
  @Override
  protected Transport transport() {
    return Transports.forScheme("tcp");
  }
}
