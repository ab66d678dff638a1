package org.cachedafs.transport;

import java.io.IOException;
import java.net.SocketAddress;

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

  /** Sizes and abilities of this provider's connections and domains. */
  Capabilities capabilities();

  /**
   * An address to listen on for this host only, for tests and for a server offering this provider
   * beside another: loopback with an ephemeral port for tcp, a fresh socket path for shm.
   */
  SocketAddress localAddress() throws IOException;

  /** A new protection domain. The caller owns it and closes it after the connections that use it. */
  MemoryDomain openDomain();

  /**
   * Connects to a listener. Messages and one-sided operations from the peer are served with the
   * regions of {@code domain}; {@code handler} is called on the connection's receive thread.
   */
  default Connection connect(SocketAddress address, MemoryDomain domain, ConnectionHandler handler) throws IOException {
    return connect(address, domain, handler, ConnectionLimits.defaults(), new byte[0]);
  }

  /**
   * As {@link #connect(SocketAddress, MemoryDomain, ConnectionHandler)}, within {@code limits},
   * presenting {@code credential} to the listener's {@link ConnectionHandler#admit} before anything
   * is shared.
   *
   * @throws IllegalArgumentException if {@code address} is not of this provider's kind, or
   *     {@code domain} is not this provider's
   * @throws IOException if the peer cannot be reached or refused the credential
   */
  Connection connect(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits, byte[] credential)
      throws IOException;

  /** Listens for connections; each accepted one uses {@code domain} and {@code handler}. */
  default Listener listen(SocketAddress address, MemoryDomain domain, ConnectionHandler handler) throws IOException {
    return listen(address, domain, handler, ConnectionLimits.defaults());
  }

  /** As {@link #listen(SocketAddress, MemoryDomain, ConnectionHandler)}; each connection within {@code limits}. */
  Listener listen(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException;
}
