package org.cachedafs.server;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cachedafs.protocol.Handshake;
import org.cachedafs.protocol.Replies;
import org.cachedafs.transport.Connection;

/**
 * The transports a session may move to besides the one it arrived on (shm for a client on this host),
 * and the one-time credentials that admit it there.
 *
 * <p>Why a credential: a transport like shm maps memory into its peer as soon as it accepts it, so it
 * must admit only peers that already hold a session. A client gets a credential over its
 * authenticated connection; the new transport's listener takes it once, before sharing anything; the
 * client then binds its session on the new connection with its session key, as on any reconnect.
 * The credential protects the server only; the client learns it reached the same server process
 * from the bind, whose reply proves the session key. Credentials expire after {@link #VALID_NANOS}, and a
 * session holds at most one per offered transport (a new offer replaces its previous one), so the
 * table is bounded by the session table and asking for offers in a loop pushes out nobody else's.
 */
final class TransportOffers {
  static final long VALID_NANOS = 30_000_000_000L;

  /** A credential handed out: for which session, and until when. */
  private record Issued(long sessionId, long expires) {}

  private final List<Endpoint> offered;
  private final SecureRandom random;
  /** Guarded by this: each outstanding credential, oldest first. */
  private final LinkedHashMap<ByteBuffer, Issued> outstanding = new LinkedHashMap<>();
  /** Guarded by this: each session's one outstanding credential per offered transport. */
  private final Map<Long, List<ByteBuffer>> bySession = new java.util.HashMap<>();

  TransportOffers(List<Endpoint> offered, SecureRandom random) {
    this.offered = List.copyOf(offered);
    this.random = random;
  }

  /**
   * What {@code c}'s session {@code sessionId} may move to: nothing for a peer that did not reach the
   * server over loopback, or already on that transport. A new offer replaces the session's previous
   * credentials, so a session asking in a loop holds one per transport and pushes out nobody else's.
   */
  List<Replies.Offer> offer(long sessionId, Connection c) {
    List<Replies.Offer> offers = new ArrayList<>();
    if (!c.peerIsLocal()) {
      return offers;
    }
    List<ByteBuffer> mine = new ArrayList<>();
    for (Endpoint e : offered) {
      if (e.domain == c.domain() || !e.listening()) {
        continue;
      }
      byte[] credential = Handshake.nonce(random);
      mine.add(ByteBuffer.wrap(credential));
      offers.add(new Replies.Offer(e.transport.scheme(), e.transport.formatAddress(e.address()), credential));
    }
    synchronized (this) {
      expire(System.nanoTime());
      List<ByteBuffer> previous = bySession.remove(sessionId);
      if (previous != null) {
        previous.forEach(outstanding::remove);
      }
      if (!mine.isEmpty()) {
        long expires = System.nanoTime() + VALID_NANOS;
        mine.forEach(k -> outstanding.put(k, new Issued(sessionId, expires)));
        bySession.put(sessionId, mine);
      }
    }
    return offers;
  }

  /** Whether {@code credential} is one this server handed out and nobody used yet; uses it up. */
  synchronized boolean admit(byte[] credential) {
    expire(System.nanoTime());
    Issued issued = outstanding.remove(ByteBuffer.wrap(credential.clone()));
    if (issued == null) {
      return false;
    }
    List<ByteBuffer> mine = bySession.get(issued.sessionId());
    if (mine != null) {
      mine.remove(ByteBuffer.wrap(credential));
      if (mine.isEmpty()) {
        bySession.remove(issued.sessionId());
      }
    }
    return true;
  }

  /** Guarded by this. */
  private void expire(long now) {
    for (Iterator<Map.Entry<ByteBuffer, Issued>> it = outstanding.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<ByteBuffer, Issued> e = it.next();
      if (e.getValue().expires() - now > 0) {
        break;
      }
      it.remove();
      List<ByteBuffer> mine = bySession.get(e.getValue().sessionId());
      if (mine != null) {
        mine.remove(e.getKey());
        if (mine.isEmpty()) {
          bySession.remove(e.getValue().sessionId());
        }
      }
    }
  }
}
