package org.cachedafs.transport;

import java.nio.ByteBuffer;

/**
 * Receives a connection's events, on its receive thread. Implementations must not block there for
 * long: the same thread places the peer's one-sided writes.
 */
public interface ConnectionHandler {
  /** A connection was accepted or established. */
  default void onOpen(Connection connection) {}

  /** One message; the handler owns {@code message}. */
  void onMessage(Connection connection, ByteBuffer message);

  /** The connection closed; {@code cause} is null for an orderly close. */
  void onClosed(Connection connection, Throwable cause);
}
