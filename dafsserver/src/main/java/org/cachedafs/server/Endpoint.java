package org.cachedafs.server;

import java.io.IOException;
import java.net.SocketAddress;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Transport;

/**
 * One transport the server listens on: its protection domain, the staging memory registered in that
 * domain, and its listener. A connection's one-sided transfers can only use regions of its own
 * domain, so each transport needs staging of its own.
 *
 * <p>Owns all three; {@link #close} releases them in the one safe order: stop accepting, then free
 * the staging memory, then the domain.
 */
final class Endpoint implements AutoCloseable {
  private static final int STAGING_CHUNKS = 16;
  private static final int STAGING_CHUNK_BYTES = 1 << 20;

  final Transport transport;
  final MemoryDomain domain;
  final StagingPool staging;
  private Listener listener;

  private Endpoint(Transport transport) {
    this.transport = transport;
    this.domain = transport.openDomain();
    StagingPool pool;
    try {
      pool = new StagingPool(domain, STAGING_CHUNKS, STAGING_CHUNK_BYTES);
    } catch (RuntimeException e) {
      domain.close();
      throw e;
    }
    this.staging = pool;
  }

  /** A domain and its staging memory; {@link #listen} starts accepting. */
  static Endpoint open(Transport transport) {
    return new Endpoint(transport);
  }

  void listen(SocketAddress address, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    listener = transport.listen(address, domain, handler, limits);
  }

  SocketAddress address() {
    return listener.localAddress();
  }

  String describe() {
    return transport.scheme() + "://" + transport.formatAddress(address());
  }

  /** Stops accepting connections; those accepted stay open. Idempotent. */
  void stopAccepting() {
    if (listener != null) {
      listener.close();
    }
  }

  @Override
  public void close() {
    stopAccepting();
    staging.close();
    domain.close();
  }
}
