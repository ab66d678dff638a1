package org.cachedafs.transport;

import java.net.SocketAddress;

/** Accepts connections until closed. */
public interface Listener extends AutoCloseable {
  SocketAddress localAddress();

  /** Stops accepting; connections already accepted stay open. */
  @Override
  void close();
}
