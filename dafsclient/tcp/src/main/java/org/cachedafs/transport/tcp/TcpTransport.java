package org.cachedafs.transport.tcp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import org.cachedafs.transport.Capabilities;
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

  /**
   * Messages are read into buffers allocated per message and given away, so the receive depth is
   * bounded only by the connection's queue limits; one-sided transfers are placed by the peer's
   * receive thread, which can count them.
   */
  static final Capabilities CAPABILITIES = new Capabilities(TcpWire.MAX_MESSAGE, TcpWire.MAX_ONE_SIDED, 4096, 4096, false, true, true, false);

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public SocketAddress localAddress() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }

  @Override
  public MemoryDomain openDomain() {
    return new TcpDomain();
  }

  @Override
  public Connection connect(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits, byte[] credential)
      throws IOException {
    TcpDomain d = tcpDomain(domain);
    InetSocketAddress inet = inet(address);
    SocketChannel ch = SocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.socket().connect(inet, CONNECT_TIMEOUT_MILLIS);
      TcpConnection c = new TcpConnection(ch, d, handler, limits, false);
      c.start();
      return c;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public Listener listen(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    return new TcpListener(inet(address), tcpDomain(domain), handler, limits);
  }

  private static InetSocketAddress inet(SocketAddress a) {
    if (a instanceof InetSocketAddress i) {
      return i;
    }
    throw new IllegalArgumentException("a tcp address is a host and port, not " + a);
  }

  private static TcpDomain tcpDomain(MemoryDomain domain) {
    if (domain instanceof TcpDomain d) {
      return d;
    }
    throw new IllegalArgumentException("a tcp connection needs a tcp domain, not " + domain);
  }
}
