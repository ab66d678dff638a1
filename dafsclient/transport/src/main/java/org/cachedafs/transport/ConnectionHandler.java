package org.cachedafs.transport;

/**
 * Receives a connection's events, on its receive thread. Implementations must neither block there
 * nor send from there: on tcp the same thread places the peer's one-sided writes, and a receive
 * thread stuck on a full socket stops reading, which over a byte stream lets two peers wait on each
 * other forever.
 */
public interface ConnectionHandler {
  /**
   * Whether a listener may accept a peer that presented {@code credential} when it connected (see
   * {@link Transport#connect(java.net.SocketAddress, MemoryDomain, ConnectionHandler, ConnectionLimits, byte[])}).
   * Called before the provider shares anything with the peer: a provider that maps memory into the
   * peer (shm) maps nothing for a peer refused here. Providers whose connections share no memory
   * before the layer above authenticates (tcp) pass an empty credential and may not call it.
   */
  default boolean admit(byte[] credential) {
    return true;
  }

  /** A connection was accepted or established. */
  default void onOpen(Connection connection) {}

  /** One message; the handler must release or detach it (see {@link Received}). */
  void onMessage(Connection connection, Received message);

  /** The connection closed; {@code cause} is null for an orderly close. */
  void onClosed(Connection connection, Throwable cause);
}
