package org.cachedafs.server;

/** What the server knows about one connection: its handshake progress and the session it is bound to. */
final class Peer {
  /** Guarded by this. The challenge sent on this connection; single use. */
  byte[] serverNonce;
  /** Guarded by this. */
  String clientName;
  volatile ServerSession session;
  /** Frames received while the connection had no session; only the receive thread touches it. */
  int framesWithoutSession;
  /** The check that closes the connection if it has no session in time; cancelled when it closes. */
  volatile java.util.concurrent.ScheduledFuture<?> handshakeDeadline;
  /** Authentication failed: the connection closes once the refusal is sent, and nothing more is read from it. */
  volatile boolean refused;
}
