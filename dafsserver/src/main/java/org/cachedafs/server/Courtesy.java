package org.cachedafs.server;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.cachedafs.logging.Loggers;
import org.slf4j.Logger;

/**
 * Courtesy sessions, as in the Linux NFS server's "courteous server" (5.19): a session whose lease ran
 * out is not ended, but kept with its opens, locks and delegations until another client needs
 * something it holds. A client cut off for a while (a partition, a stall) that nobody conflicted
 * with meanwhile carries on as if nothing had happened, however late TCP's backed-off retransmission
 * brings it back after the link heals; one that somebody did conflict with loses only what was taken:
 *
 * <ul>
 *   <li>a delegation another client's operation conflicts with is revoked at once, with no recall to
 *       wait for (its opens of the file are fenced, as at a recall's deadline), and the session's
 *       renewal replies list it, so the client learns of it when it is back ({@link Delegations#lapsed});
 *   <li>a share reservation or byte-range lock that another client's open or lock runs into ends the
 *       whole session first ({@link #makeWay}): neither can be taken away piecemeal;
 *   <li>a courtesy session ends after {@link #LIMIT}, or earlier if the session table is full and a
 *       new session needs its place ({@link SessionTable#addWithin}).
 * </ul>
 *
 * <p>A request from the session makes it an ordinary session again ({@link ServerSession#renew}).
 */
final class Courtesy {
  private static final Logger log = Loggers.get(Courtesy.class);

  /** The longest a courtesy session is kept: a day, as on Linux. */
  static final Duration LIMIT = Duration.ofHours(24);

  private final SessionTable sessions;
  private final HandleTable handles;
  private final Delegations delegations;
  private final Executor workers;
  private final Duration lease;
  private final ClientRecords records;

  Courtesy(SessionTable sessions, HandleTable handles, Delegations delegations, Executor workers, Duration lease, ClientRecords records) {
    this.records = records;
    this.sessions = sessions;
    this.handles = handles;
    this.delegations = delegations;
    this.workers = workers;
    this.lease = lease;
  }

  /** The lease sweep: sessions whose lease ran out become courtesy sessions, and those kept past the limit end. */
  void sweep(long now) {
    for (ServerSession s : sessions.lapse(now, delegations)) {
      log.info("{}: its lease of {} ran out; kept as a courtesy session until another client needs what it holds", s, lease);
    }
    for (ServerSession s : sessions.removeCourtesyOlderThan(now, LIMIT.toNanos())) {
      log.info("{} ended: a courtesy session for {} h", s, TimeUnit.NANOSECONDS.toHours(now - s.courtesySince()));
      records.release(s.identity());
      s.end(handles, delegations);
    }
  }

  /**
   * {@code holder}, a courtesy session, stands in the way of an operation with {@code what} (its share
   * reservation, its lock): it is ended, off the caller's thread (which may hold a file's monitor), and
   * the returned exception has the operation run again once it has. Null if it is an ordinary session
   * again (it came back meanwhile): then the conflict stands.
   */
  RecallPending makeWay(ServerSession holder, String what) {
    boolean removed;
    synchronized (holder) { // against its coming back meanwhile (ServerSession.renew)
      if (!holder.courtesy()) {
        return null; // back: an ordinary conflict
      }
      removed = sessions.remove(holder);
    }
    if (removed) {
      log.info("{} ended: a courtesy session, and another client needs {}", holder, what);
      records.release(holder.identity());
      try {
        workers.execute(() -> holder.end(handles, delegations));
      } catch (RejectedExecutionException shuttingDown) {
        holder.end(handles, delegations);
      }
    }
    return new RecallPending(holder.gone(), null);
  }
}
