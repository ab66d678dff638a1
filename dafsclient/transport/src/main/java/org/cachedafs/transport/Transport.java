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

  /**
   * An address of this provider's kind as text, for a peer to {@linkplain #parseAddress parse}: a
   * socket path, or host and port.
   */
  default String formatAddress(SocketAddress address) {
    if (address instanceof java.net.UnixDomainSocketAddress u) {
      return u.getPath().toString();
    }
    if (address instanceof java.net.InetSocketAddress i) {
      String host = i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString();
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + i.getPort();
    }
    throw new IllegalArgumentException("not an address of transport " + scheme() + ": " + address);
  }

  /**
   * The address {@link #formatAddress} wrote.
   *
   * @throws IllegalArgumentException if {@code text} is not one
   */
  default SocketAddress parseAddress(String text) {
    if (text.startsWith("/")) {
      return java.net.UnixDomainSocketAddress.of(text);
    }
    int colon = text.lastIndexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException("not an address of transport " + scheme() + ": '" + text + "'");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new java.net.InetSocketAddress(host, Integer.parseInt(text.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an address of transport " + scheme() + ": '" + text + "'");
    }
  }

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
