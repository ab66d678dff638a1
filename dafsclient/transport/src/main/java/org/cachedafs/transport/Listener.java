package org.cachedafs.transport;

import java.net.InetSocketAddress;

/** Accepts connections until closed. */
public interface Listener extends AutoCloseable {
  InetSocketAddress localAddress();

  /** Stops accepting; connections already accepted stay open. */
  @Override
  void close();
}
