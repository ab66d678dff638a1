package org.cachedafs.server;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.transport.Connection;

/**
 * Which connections the server keeps: at most {@code maxConnections}, of which at most
 * {@code maxUnauthenticated} have not yet created or bound a session.
 *
 * <p>A flood of connections that never authenticate must not lock out a client that does: when
 * either bound is reached, the oldest connection still without a session is closed to make room
 * (a well-behaved client authenticates within milliseconds of connecting, so it is never the
 * oldest for long). Only when every connection is authenticated is a new one refused.
 */
final class Admission {
  private final int maxConnections;
  private final int maxUnauthenticated;
  /** Guarded by this: admitted connections without a session, oldest first. */
  private final LinkedHashSet<Connection> unauthenticated = new LinkedHashSet<>();
  /** Guarded by this: every admitted connection still counted. */
  private final java.util.Set<Connection> admitted = new java.util.HashSet<>();
  final LongAdder evicted = new LongAdder();
  final LongAdder refused = new LongAdder();

  Admission(int maxConnections, int maxUnauthenticated) {
    this.maxConnections = maxConnections;
    this.maxUnauthenticated = Math.min(maxUnauthenticated, maxConnections);
  }

  /** Admits a new connection, closing an old unauthenticated one if needed; false if it must be refused. */
  boolean admit(Connection c) {
    Connection victim = null;
    synchronized (this) {
      if (admitted.size() >= maxConnections || unauthenticated.size() >= maxUnauthenticated) {
        Iterator<Connection> oldest = unauthenticated.iterator();
        if (!oldest.hasNext()) {
          refused.increment();
          return false;
        }
        victim = oldest.next();
        oldest.remove();
        admitted.remove(victim);
      }
      admitted.add(c);
      unauthenticated.add(c);
    }
    if (victim != null) {
      evicted.increment();
      victim.close();
    }
    return true;
  }

  /** The connection now has a session: it is no longer a candidate for eviction. */
  synchronized void authenticated(Connection c) {
    unauthenticated.remove(c);
  }

  /** A connection closed, for whatever reason; one evicted was already taken off. */
  synchronized void closed(Connection c) {
    unauthenticated.remove(c);
    admitted.remove(c);
  }

  synchronized int connections() {
    return admitted.size();
  }
}
