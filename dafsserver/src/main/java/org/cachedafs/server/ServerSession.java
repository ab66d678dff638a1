package org.cachedafs.server;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;
import org.slf4j.Logger;

/**
 * A client's session on the server: its slots and reply cache, its opens, and its lease. It outlives
 * any one connection; a reconnecting client binds its new connection to it.
 *
 * <p>When its lease runs out it is not ended but becomes a <em>courtesy</em> session ({@link Courtesy}):
 * it keeps what it holds until another client needs it, and a request from it makes it an ordinary
 * session again. The switch both ways happens under the session's monitor (which {@link
 * Courtesy#makeWay} takes too, to end only a session that is still a courtesy one), and each side
 * writes its own field before it reads the other's ({@link #lastRenewal} and {@link #courtesy}), so a
 * request that races with the lapse either stops it or sees it and undoes it after it is complete.
 */
final class ServerSession {
  private static final Logger log = Loggers.get(ServerSession.class);

  private final long id;
  private final String clientName;
  /** Who the client is across restarts (its records on disk are kept under it). */
  private final ClientIdentity identity;
  /** Set by RECLAIM_COMPLETE: the session has taken back all it will, and reclaims no more. */
  private volatile boolean reclaimCompleted;
  private final ReplySlot[] slots;
  private final long leaseNanos;
  private final Map<Long, OpenState> opens = new ConcurrentHashMap<>();
  /** Agreed in SESSION_CREATE, never sent: SESSION_BIND must prove it (see Handshake). */
  private final byte[] sessionKey;
  private final SessionRunQueue runQueue;
  /**
   * Staging chunks this session may hold at once: a client whose transfers stall can keep at most
   * these from everyone else, for at most the stall timeout each.
   */
  final java.util.concurrent.Semaphore stagingPermits = new java.util.concurrent.Semaphore(STAGING_PER_SESSION);
  static final int STAGING_PER_SESSION = 2;
  /** Byte ranges this session holds locked, over all files. */
  private final java.util.concurrent.atomic.AtomicInteger lockedRanges = new java.util.concurrent.atomic.AtomicInteger();
  /** When the session last lost its connection (nanoTime); meaningful while it has none. */
  private volatile long disconnectedSince;
  private volatile Connection connection;
  private volatile long lastRenewal;
  /**
   * The lease's other clock: when bytes from the client were last known to be arriving, though no
   * request of it had come in whole (a slow link whose requests wait behind the client's own data).
   * Written by the lease sweep alone ({@link #noteTraffic}), as are the two fields after it.
   */
  private volatile long lastHeard;
  private long bytesSeen;
  private long lookedAt;
  private volatile boolean ended;
  /** Whether its lease ran out and it is kept as a courtesy session; changed under this session's monitor. */
  private volatile boolean courtesy;
  /** Since when it has been a courtesy session (nanoTime), while it is one. */
  private volatile long courtesySince;
  private final CompletableFuture<Void> gone = new CompletableFuture<>();
  /** Guarded by itself: delegations revoked from this session, the latest ones, reported in every renewal reply. */
  private final java.util.LinkedHashSet<Long> revoked = new java.util.LinkedHashSet<>();

  ServerSession(long id, ClientIdentity identity, byte[] sessionKey, int credits, long leaseNanos, int maxRunning,
      java.util.concurrent.Executor workers, Connection connection, long now) {
    this.id = id;
    this.sessionKey = sessionKey.clone();
    this.runQueue = new SessionRunQueue(maxRunning, workers, this::connection);
    this.identity = identity;
    this.clientName = identity.name();
    this.slots = new ReplySlot[credits];
    for (int i = 0; i < credits; i++) {
      slots[i] = new ReplySlot();
    }
    this.leaseNanos = leaseNanos;
    this.connection = connection;
    this.lastRenewal = now;
    this.lastHeard = now;
    this.lookedAt = now;
  }

  long id() {
    return id;
  }

  String clientName() {
    return clientName;
  }

  ClientIdentity identity() {
    return identity;
  }

  boolean reclaimCompleted() {
    return reclaimCompleted;
  }

  void completeReclaim() {
    reclaimCompleted = true;
  }

  int credits() {
    return slots.length;
  }

  /** The slot, or null if outside the granted credits. */
  ReplySlot slot(int slot) {
    return slot >= 0 && slot < slots.length ? slots[slot] : null;
  }

  Connection connection() {
    return connection;
  }

  byte[] sessionKey() {
    return sessionKey.clone();
  }

  SessionRunQueue runQueue() {
    return runQueue;
  }

  int openCount() {
    return opens.size();
  }

  /** Records a change of {@code delta} locked ranges; false (and no change) if it would pass {@code max}. */
  boolean changeLockedRanges(int delta, int max) {
    while (true) {
      int n = lockedRanges.get();
      if (delta > 0 && n + delta > max) {
        return false;
      }
      if (lockedRanges.compareAndSet(n, Math.max(0, n + delta))) {
        return true;
      }
    }
  }

  boolean connected() {
    Connection c = connection;
    return c != null && c.isOpen();
  }

  /** When the session last lost its connection (nanoTime); meaningful while not {@link #connected()}. */
  long disconnectedSince() {
    return disconnectedSince;
  }

  /** Its connection closed: remembered so that a full session table ends the longest-orphaned session first. */
  void connectionClosed(Connection c, long now) {
    if (connection == c) {
      disconnectedSince = now;
    }
  }

  /** Makes {@code c} the session's connection and closes the one it replaces, once, however many bind at once. */
  void bind(Connection c) {
    Connection old;
    synchronized (this) {
      old = connection;
      connection = c;
    }
    if (old != null && old != c) {
      old.close();
    }
  }

  void revoked(long delegationId) {
    synchronized (revoked) {
      revoked.add(delegationId);
      if (revoked.size() > org.cachedafs.protocol.Limits.MAX_REVOKED_REPORTED) {
        revoked.remove(revoked.iterator().next()); // the oldest has been reported many times by now
      }
    }
  }

  java.util.List<Long> revokedDelegations() {
    synchronized (revoked) {
      return new java.util.ArrayList<>(revoked);
    }
  }

  /**
   * A request arrived: the lease runs from {@code now}. A courtesy session becomes an ordinary one again
   * (the delegations are told); returns whether it was one.
   */
  boolean renew(long now, Delegations delegations) {
    lastRenewal = now; // before reading courtesy: see the class comment
    if (!courtesy) {
      return false;
    }
    synchronized (this) {
      if (!courtesy) {
        return false;
      }
      courtesy = false;
      delegations.holderBack(this);
      return true;
    }
  }

  /**
   * The lease sweep found the lease run out: the session becomes a courtesy session, and the
   * delegations are told (recalls under way are revoked now). False if it is one already, has ended, or
   * a request came meanwhile.
   */
  boolean lapse(long now, Delegations delegations) {
    synchronized (this) {
      if (courtesy || ended) {
        return false;
      }
      courtesy = true; // before reading the renewal: see the class comment
      if (!expired(now)) {
        courtesy = false;
        return false;
      }
      courtesySince = now;
      delegations.lapsed(this);
      return true;
    }
  }

  boolean courtesy() {
    return courtesy;
  }

  /** Since when it has been a courtesy session (nanoTime); meaningful while {@link #courtesy()}. */
  long courtesySince() {
    return courtesySince;
  }

  /**
   * The lease sweep's look at the session's connection: if bytes arrived since its last look, the client
   * was alive after that look, and that renews the lease as a request would. (The time of the last look,
   * not now: that is all the sweep knows, so the lease never outlives a silent client by more than it
   * would have with requests alone.) Called by the sweep alone.
   */
  void noteTraffic(long now) {
    Connection c = connection;
    long received = c == null ? bytesSeen : c.bytesReceived();
    if (received != bytesSeen) {
      bytesSeen = received;
      lastHeard = lookedAt;
    }
    lookedAt = now;
  }

  /** Whether neither a request nor any other traffic from the client renewed the lease within it (a courtesy session's has). */
  boolean expired(long now) {
    return now - lastRenewal > leaseNanos && now - lastHeard > leaseNanos;
  }

  boolean ended() {
    return ended;
  }

  /** This session's open with that state id, or null. */
  OpenState openOrNull(long stateId) {
    return opens.get(stateId);
  }

  long newStateId(SecureRandom random) {
    while (true) {
      long id = random.nextLong();
      if (id != 0 && !opens.containsKey(id)) {
        return id;
      }
    }
  }

  /**
   * Adds an open under its state id: a new one ({@link #newStateId}), or one reclaimed after a restart
   * under the id the client kept. False if the session has an open with that id already.
   */
  boolean addOpen(OpenState o) {
    return opens.putIfAbsent(o.stateId(), o) == null;
  }

  /** This session's open for a state id; BAD_STATEID for an unknown id or another session's. */
  OpenState open(long stateId) throws OpException {
    OpenState o = opens.get(stateId);
    if (o == null) {
      throw new OpException(Status.BAD_STATEID, "no open with that state id in this session");
    }
    return o;
  }

  OpenState removeOpen(long stateId) throws OpException {
    OpenState o = opens.remove(stateId);
    if (o == null) {
      throw new OpException(Status.BAD_STATEID, "no open with that state id in this session");
    }
    return o;
  }

  /** Takes back an open just added (its session ended meanwhile) and closes its channel. */
  void removeOpenQuietly(OpenState o) {
    opens.remove(o.stateId(), o);
    closeQuietly(o);
  }

  boolean hasOpenOn(FileNode node) {
    for (OpenState o : opens.values()) {
      if (o.node() == node) {
        return true;
      }
    }
    return false;
  }


  /**
   * Ends the session: drops its delegations (whoever waited on them proceeds), closes its opens,
   * releases its locks, closes its connection. Idempotent.
   */
  void end(HandleTable handles, Delegations delegations) {
    synchronized (this) { // against a lapse under way, which must not tell the delegations after this does
      if (ended) {
        return;
      }
      ended = true;
    }
    // Opens first, so that operations let go when the delegations are dropped find no stale share modes.
    for (OpenState o : opens.values()) {
      opens.remove(o.stateId());
      synchronized (o.node()) {
        o.node().opens().remove(o);
      }
      changeLockedRanges(-o.node().locks().releaseAll(this), Integer.MAX_VALUE);
      closeQuietly(o);
      handles.released(o.node());
    }
    delegations.sessionEnded(this);
    Connection c = connection;
    if (c != null) {
      c.closeAfterSending(); // a SESSION_DESTROY's reply, or whatever else is on its way, goes first
    }
    gone.complete(null);
  }

  /** Completes once {@link #end} has released everything the session held. */
  CompletableFuture<Void> gone() {
    return gone;
  }

  static void closeQuietly(OpenState o) {
    try {
      o.close();
    } catch (IOException e) {
      log.debug("closing {}", o.node(), e);
    }
  }

  @Override
  public String toString() {
    return "session " + Long.toHexString(id) + " (" + clientName + ")";
  }
}
