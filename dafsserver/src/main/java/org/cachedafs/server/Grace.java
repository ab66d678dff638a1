package org.cachedafs.server;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Status;
import org.slf4j.Logger;

/**
 * The grace period after a restart (NFSv4's, RFC 8881 section 8.4.2): the clients the server had
 * recorded when it stopped ({@link ClientRecords#atStart}) reconnect and reclaim their opens, locks
 * and delegations, and nothing new that could conflict with those is granted meanwhile: an OPEN,
 * LOCK, SETATTR, REMOVE or RENAME that is not a reclaim is answered DELAY, and the client sends it
 * again. Grace ends when every recorded client has said it finished (RECLAIM_COMPLETE), or when its
 * time is up, whichever comes first; a server that knew no client has none. After it a reclaim is
 * refused with NO_GRACE, and during it one from a client the records do not hold with RECLAIM_BAD.
 *
 * <p>Thread-safe: the set of clients still awaited is guarded by the monitor; whether grace is over is
 * a volatile flag, read on every OPEN, so that the common case, long after grace, costs one read.
 */
final class Grace {
  private static final Logger log = Loggers.get(Grace.class);

  private final ClientRecords records;
  private final Set<ClientIdentity> known;
  private final long startNanos;
  private final long deadlineNanos;
  private final Duration length;
  /** Guarded by this: recorded clients that have not finished reclaiming. */
  private final Set<ClientIdentity> awaited;
  private volatile boolean over;
  /** How long grace lasted, once it is over (ns). */
  private volatile long lastedNanos;
  final LongAdder opensReclaimed = new LongAdder();
  final LongAdder locksReclaimed = new LongAdder();
  final LongAdder delegationsReclaimed = new LongAdder();
  /** Reclaims refused: after grace (NO_GRACE), from clients not recorded (RECLAIM_BAD), or not fitting (RECLAIM_CONFLICT). */
  final LongAdder reclaimsRefused = new LongAdder();
  /** Requests for new state answered DELAY during grace. */
  final LongAdder delayed = new LongAdder();

  Grace(ClientRecords records, Duration length, long now) {
    this.records = records;
    this.known = records.atStart();
    this.length = length;
    this.startNanos = now;
    this.deadlineNanos = now + length.toNanos();
    this.awaited = new LinkedHashSet<>(known);
    if (known.isEmpty()) {
      over = true;
    } else if (length.isZero()) {
      end(now, "the grace period is off (--grace-ms 0)");
    } else {
      log.info("in grace for up to {} ms: {} clients held state before the restart and may reclaim it: {}", length.toMillis(), known.size(), known);
    }
  }

  /** Whether the grace period runs now; ends it when its time is up. */
  boolean active(long now) {
    if (over) {
      return false;
    }
    if (now - deadlineNanos >= 0) {
      end(now, "its " + length.toMillis() + " ms are up");
      return false;
    }
    return true;
  }

  /**
   * Before an operation that would take new state, or change a file that a client may be about to
   * reclaim state on: DELAY while grace runs.
   */
  void checkNew(Opcode op, long now) throws OpException {
    if (active(now)) {
      delayed.increment();
      throw new OpException(Status.DELAY, op + " waits: the server restarted " + (now - startNanos) / 1_000_000
          + " ms ago, and the clients it knew reclaim their state first (grace ends in at most " + Math.max(0, (deadlineNanos - now) / 1_000_000) + " ms)");
    }
  }

  /** Before a reclaim by {@code s}: NO_GRACE after grace (or after the session said it was done), RECLAIM_BAD from a client not recorded. */
  void checkReclaim(ServerSession s, long now) throws OpException {
    if (!active(now)) {
      reclaimsRefused.increment();
      throw new OpException(Status.NO_GRACE, known.isEmpty()
          ? "the server has no grace period: it knew no client when it started, so nothing can be reclaimed"
          : "the server's grace period after its restart is over (it lasted " + lastedNanos / 1_000_000 + " ms): what this client held before the restart is gone");
    }
    if (s.reclaimCompleted()) {
      reclaimsRefused.increment();
      throw new OpException(Status.NO_GRACE, "this session already said it finished reclaiming (RECLAIM_COMPLETE)");
    }
    if (!known.contains(s.identity())) {
      reclaimsRefused.increment();
      throw new OpException(Status.RECLAIM_BAD, "client " + s.identity() + " held no state here before the restart: it is not in the server's client records");
    }
  }

  /** RECLAIM_COMPLETE from {@code s}: it has taken back all it will; with the last one awaited, grace ends. */
  void completed(ServerSession s, long now) {
    s.completeReclaim();
    boolean last;
    synchronized (this) {
      last = awaited.remove(s.identity()) && awaited.isEmpty();
    }
    if (last) {
      end(now, "every client it knew has reclaimed");
    }
  }

  private void end(long now, String why) {
    Set<ClientIdentity> absent;
    synchronized (this) {
      if (over) {
        return;
      }
      lastedNanos = now - startNanos;
      over = true;
      absent = Set.copyOf(awaited);
    }
    if (!known.isEmpty()) {
      log.info("grace period over after {} ms ({}): {} of {} clients reclaimed{}", lastedNanos / 1_000_000, why, known.size() - absent.size(), known.size(),
          absent.isEmpty() ? "" : "; not reclaimed in time, and forgotten unless connected now: " + absent);
    }
    records.forgetAbsent(known);
  }

  ServerStats.Grace stats(long now) {
    boolean active = active(now);
    int left;
    synchronized (this) {
      left = awaited.size();
    }
    return new ServerStats.Grace(active, known.size(), known.size() - left, active ? (now - startNanos) / 1_000_000 : lastedNanos / 1_000_000,
        opensReclaimed.sum(), locksReclaimed.sum(), delegationsReclaimed.sum(), reclaimsRefused.sum(), delayed.sum(), records.size());
  }
}
