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
 * A credential that reached the listener also proves the client found the same server process, not
 * another one listening at the same path. Credentials expire after {@link #VALID_NANOS}, and at most
 * {@link #MAX_OUTSTANDING} wait at once (the oldest go first), so asking for offers in a loop costs
 * the server a bounded table.
 */
final class TransportOffers {
  static final long VALID_NANOS = 30_000_000_000L;
  static final int MAX_OUTSTANDING = 1024;

  private final List<Endpoint> offered;
  private final SecureRandom random;
  /** Guarded by this: credential → when it stops being valid, oldest first. */
  private final LinkedHashMap<ByteBuffer, Long> outstanding = new LinkedHashMap<>();

  TransportOffers(List<Endpoint> offered, SecureRandom random) {
    this.offered = List.copyOf(offered);
    this.random = random;
  }

  /** What {@code c}'s session may move to: nothing for a peer on another host, or already on that transport. */
  List<Replies.Offer> offer(Connection c) {
    List<Replies.Offer> offers = new ArrayList<>();
    if (!c.peerIsLocal()) {
      return offers;
    }
    for (Endpoint e : offered) {
      if (e.domain == c.domain()) {
        continue;
      }
      byte[] credential = Handshake.nonce(random);
      synchronized (this) {
        expire(System.nanoTime());
        if (outstanding.size() >= MAX_OUTSTANDING) {
          Iterator<ByteBuffer> oldest = outstanding.keySet().iterator();
          oldest.next();
          oldest.remove();
        }
        outstanding.put(ByteBuffer.wrap(credential), System.nanoTime() + VALID_NANOS);
      }
      offers.add(new Replies.Offer(e.transport.scheme(), e.transport.formatAddress(e.address()), credential));
    }
    return offers;
  }

  /** Whether {@code credential} is one this server handed out and nobody used yet; uses it up. */
  synchronized boolean admit(byte[] credential) {
    expire(System.nanoTime());
    return outstanding.remove(ByteBuffer.wrap(credential.clone())) != null;
  }

  /** Guarded by this. */
  private void expire(long now) {
    for (Iterator<Map.Entry<ByteBuffer, Long>> it = outstanding.entrySet().iterator(); it.hasNext(); ) {
      if (it.next().getValue() - now > 0) {
        break;
      }
      it.remove();
    }
  }
}
