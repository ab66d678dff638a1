package org.cachedafs.server;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The live sessions, by id. Ids are random, so one client cannot guess another's. */
final class SessionTable {
  private final Map<Long, ServerSession> sessions = new ConcurrentHashMap<>();
  private final SecureRandom random;

  SessionTable(SecureRandom random) {
    this.random = random;
  }

  long newId() {
    while (true) {
      long id = random.nextLong();
      if (id != 0 && !sessions.containsKey(id)) {
        return id;
      }
    }
  }

  /**
   * Adds {@code s} within {@code max} sessions, in one step with the check: if the table is full, removes and returns
   * the courtesy session that has been one longest, or else the session that has been without a
   * connection longest (its client can still be served: it just loses its state). Returns null if
   * there was room; throws RESOURCE if the table is full of connected sessions with a lease.
   */
  synchronized ServerSession addWithin(int max, ServerSession s) throws OpException {
    ServerSession evicted = makeRoom(max);
    sessions.put(s.id(), s);
    return evicted;
  }

  /** Guarded by this. */
  private ServerSession makeRoom(int max) throws OpException {
    if (sessions.size() < max) {
      return null;
    }
    ServerSession oldest = null;
    for (ServerSession s : sessions.values()) {
      if (s.courtesy() && (oldest == null || s.courtesySince() - oldest.courtesySince() < 0)) {
        oldest = s;
      }
    }
    if (oldest == null) {
      for (ServerSession s : sessions.values()) {
        if (!s.connected() && (oldest == null || s.disconnectedSince() - oldest.disconnectedSince() < 0)) {
          oldest = s;
        }
      }
    }
    if (oldest == null || !sessions.remove(oldest.id(), oldest)) {
      throw new OpException(org.cachedafs.protocol.Status.RESOURCE, "the server holds its limit of " + max + " sessions, all connected");
    }
    return oldest;
  }

  ServerSession get(long id) {
    return sessions.get(id);
  }

  boolean remove(ServerSession s) {
    return sessions.remove(s.id(), s);
  }

  int size() {
    return sessions.size();
  }

  /**
   * Makes courtesy sessions of the sessions whose lease ran out, once each has had its traffic noted
   * ({@link ServerSession#noteTraffic}), and returns them. Called by the lease sweep alone.
   */
  List<ServerSession> lapse(long now, Delegations delegations) {
    List<ServerSession> out = new ArrayList<>();
    for (ServerSession s : sessions.values()) {
      s.noteTraffic(now);
      if (s.expired(now) && s.lapse(now, delegations)) {
        out.add(s);
      }
    }
    return out;
  }

  /** Removes and returns the sessions that have been courtesy sessions for longer than {@code limitNanos}. */
  List<ServerSession> removeCourtesyOlderThan(long now, long limitNanos) {
    List<ServerSession> out = new ArrayList<>();
    for (ServerSession s : sessions.values()) {
      if (s.courtesy() && now - s.courtesySince() > limitNanos && sessions.remove(s.id(), s)) {
        out.add(s);
      }
    }
    return out;
  }

  List<ServerSession> removeAll() {
    List<ServerSession> out = new ArrayList<>(sessions.values());
    sessions.clear();
    return out;
  }
}
