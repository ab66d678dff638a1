package org.cachedafs.transport.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Transport;

/** The {@code tcp} transport provider; see the package documentation for its wire format. */
public final class TcpTransport implements Transport {
  private static final int CONNECT_TIMEOUT_MILLIS = 10_000;

  @Override
  public String scheme() {
    return "tcp";
  }

  /** The socket, and a selector (an epoll descriptor and an eventfd) for each of its two threads. */
  @Override
  public int descriptorsPerConnection() {
    return 5;
  }

  @Override
  public MemoryDomain openDomain() {
    return new TcpDomain();
  }

  @Override
  public Connection connect(InetSocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    TcpDomain d = tcpDomain(domain);
    SocketChannel ch = SocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.socket().connect(address, CONNECT_TIMEOUT_MILLIS);
      TcpConnection c = new TcpConnection(ch, d, handler, limits, false);
      c.start();
      return c;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public Listener listen(InetSocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    return new TcpListener(address, tcpDomain(domain), handler, limits);
  }

  private static TcpDomain tcpDomain(MemoryDomain domain) {
    if (domain instanceof TcpDomain d) {
      return d;
    }
    throw new IllegalArgumentException("a tcp connection needs a tcp domain, not " + domain);
  }
}
