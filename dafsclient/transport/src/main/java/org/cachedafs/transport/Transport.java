package org.cachedafs.transport;

import java.io.IOException;
import java.net.InetSocketAddress;

/** A transport provider: the factory for domains, connections and listeners of one kind. */
public interface Transport {
  /** The scheme that names this transport in addresses, such as {@code tcp}. */
  String scheme();

  /** Whether this provider can run on this machine; {@link #unavailableReason} says why not. */
  default boolean isAvailable() {
    return true;
  }

  default String unavailableReason() {
    return "";
  }

  /**
   * How many file descriptors one connection holds, so that a server can size its connection limit
   * to the process's descriptor limit.
   */
  default int descriptorsPerConnection() {
    return 1;
  }

  /** A new protection domain. The caller owns it and closes it after the connections that use it. */
  MemoryDomain openDomain();

  /**
   * Connects to a listener. Messages and one-sided operations from the peer are served with the
   * regions of {@code domain}; {@code handler} is called on the connection's receive thread.
   */
  default Connection connect(InetSocketAddress address, MemoryDomain domain, ConnectionHandler handler) throws IOException {
    return connect(address, domain, handler, ConnectionLimits.defaults());
  }

  /** As {@link #connect(InetSocketAddress, MemoryDomain, ConnectionHandler)}, within {@code limits}. */
  Connection connect(InetSocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException;

  /** Listens for connections; each accepted one uses {@code domain} and {@code handler}. */
  default Listener listen(InetSocketAddress address, MemoryDomain domain, ConnectionHandler handler) throws IOException {
    return listen(address, domain, handler, ConnectionLimits.defaults());
  }

  /** As {@link #listen(InetSocketAddress, MemoryDomain, ConnectionHandler)}; each connection within {@code limits}. */
  Listener listen(InetSocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException;
}
