package org.cachedafs.transport;

import java.nio.ByteBuffer;

/**
 * Receives a connection's events, on its receive thread. Implementations must neither block there
 * nor send from there: the same thread places the peer's one-sided writes, and a receive thread stuck
 * on a full socket stops reading, which over a byte stream lets two peers wait on each other forever.
 */
public interface ConnectionHandler {
  /** A connection was accepted or established. */
  default void onOpen(Connection connection) {}

  /** One message; the handler owns {@code message}. */
  void onMessage(Connection connection, ByteBuffer message);

  /** The connection closed; {@code cause} is null for an orderly close. */
  void onClosed(Connection connection, Throwable cause);
}
