package org.cachedafs.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies.Opened;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.slf4j.Logger;

/**
 * Takes back, in the new session after a server restart, what the session held before it: every open
 * under its old state id with the delegation on its file (OPEN_RECLAIM), the delegations held without
 * an open, then the byte-range locks through a reclaimed open of their file (LOCK_RECLAIM), and last
 * says it is done (RECLAIM_COMPLETE), so that the server's grace period can end early. Opens go all
 * at once, within the credits; locks after them, since each needs its open back.
 *
 * <p>A refusal of the whole reclaim (the grace period is over: NO_GRACE; the server never recorded
 * this client: RECLAIM_BAD) ends the session with that cause. Anything else that cannot be taken back
 * (a file removed meanwhile: STALE; a conflict) is lost alone: logged, forgotten from the
 * {@link HeldState}, and a lost delegation is reported to the recall listener as revoked, so that the
 * cache drops the file and reports its unwritten bytes.
 *
 * <p>Runs on the session's recovery thread, one reclaim at a time; while it runs, the pipeline holds
 * back every other request of the application.
 */
final class Reclaimer {
  private static final Logger log = Loggers.get(Reclaimer.class);

  /** What a reclaim took back, and the delegations it could not. */
  record Outcome(int opens, int delegations, int locks, List<Long> lostDelegations, int lost) {}

  /** The whole reclaim was refused: the session cannot go on. */
  static final class Refused extends Exception {
    final DafsException cause;

    Refused(DafsException cause) {
      super(cause.getMessage(), cause, false, false);
      this.cause = cause;
    }
  }

  private final RequestPipeline pipeline;
  private final HeldState held;
  private final Duration timeout;

  Reclaimer(RequestPipeline pipeline, HeldState held, Duration timeout) {
    this.pipeline = pipeline;
    this.held = held;
    this.timeout = timeout;
  }

  Outcome reclaim() throws Refused, DafsException {
    int epoch = pipeline.restarts();
    HeldState.Snapshot s = held.snapshot();
    Map<org.cachedafs.protocol.FileHandle, HeldState.Delegation> byFile = new HashMap<>();
    s.delegations().forEach(d -> byFile.put(d.handle(), d));
    List<Requests.Reclaim> asked = new ArrayList<>();
    for (HeldState.Open o : s.opens()) {
      HeldState.Delegation d = byFile.remove(o.handle()); // the first open of the file brings its delegation
      asked.add(new Requests.Reclaim(o.stateId(), o.handle(), o.access(), o.deny(),
          d == null ? Opened.DELEGATION_NONE : d.type(), d == null ? 0 : d.id()));
    }
    byFile.values().forEach(d -> asked.add(new Requests.Reclaim(0, d.handle(), 0, 0, d.type(), d.id())));
    List<CompletableFuture<Opened>> replies = new ArrayList<>();
    asked.forEach(r -> replies.add(pipeline.call(Opcode.OPEN_RECLAIM, r, Opened.class)));
    int opens = 0;
    int delegations = 0;
    int lost = 0;
    List<Long> lostDelegations = new ArrayList<>();
    Map<Long, HeldState.Open> back = new HashMap<>();
    for (int i = 0; i < asked.size(); i++) {
      Requests.Reclaim r = asked.get(i);
      DafsException failed = outcome(replies.get(i), epoch);
      if (failed == null) {
        Opened o = replies.get(i).join();
        if (r.stateId() != 0) {
          opens++;
          s.opens().stream().filter(x -> x.stateId() == r.stateId()).findFirst().ifPresent(x -> back.put(x.stateId(), x));
        }
        if (r.delegation() != Opened.DELEGATION_NONE && o.delegation() == Opened.DELEGATION_NONE) {
          log.warn("delegation {} on {} was not taken back: it conflicts with state the server holds now", Long.toHexString(r.delegationId()), r.handle());
          lostDelegations.add(r.delegationId());
          held.delegationGone(r.delegationId());
        } else if (r.delegation() != Opened.DELEGATION_NONE) {
          delegations++;
        }
        continue;
      }
      lost++;
      log.warn("{} on {} could not be taken back after the server restarted: {}",
          r.stateId() != 0 ? "open " + Long.toHexString(r.stateId()) : "delegation " + Long.toHexString(r.delegationId()), r.handle(), failed.getMessage());
      if (r.delegation() != Opened.DELEGATION_NONE) {
        lostDelegations.add(r.delegationId());
        held.delegationGone(r.delegationId());
      }
      if (r.stateId() != 0) {
        held.closed(r.stateId()); // the server does not know it: operations through it get BAD_STATEID
      }
    }
    int locks = 0;
    List<HeldState.Lock> lockAsked = new ArrayList<>();
    List<CompletableFuture<org.cachedafs.protocol.Body>> lockReplies = new ArrayList<>();
    for (HeldState.Lock l : s.locks()) {
      HeldState.Open through = back.values().stream()
          .filter(o -> o.handle().equals(l.handle()) && (o.access() & (l.range().exclusive() ? Requests.Open.ACCESS_WRITE : Requests.Open.ACCESS_READ)) != 0)
          .findFirst().orElse(null);
      if (through == null) {
        lost++;
        log.warn("lock {} on {} could not be taken back: no open of the file that allows it was", l.range(), l.handle());
        held.unlocked(l.handle(), l.range());
        continue;
      }
      lockAsked.add(l);
      lockReplies.add(pipeline.call(Opcode.LOCK_RECLAIM, new Requests.Lock(through.stateId(), l.handle(), l.range())));
    }
    for (int i = 0; i < lockAsked.size(); i++) {
      DafsException failed = outcome(lockReplies.get(i), epoch);
      if (failed == null) {
        locks++;
      } else {
        lost++;
        log.warn("lock {} on {} could not be taken back after the server restarted: {}", lockAsked.get(i).range(), lockAsked.get(i).handle(), failed.getMessage());
        held.unlocked(lockAsked.get(i).handle(), lockAsked.get(i).range());
      }
    }
    DafsException done = outcome(pipeline.call(Opcode.RECLAIM_COMPLETE, Requests.NoArgs.INSTANCE), epoch);
    if (done != null) {
      throw done;
    }
    return new Outcome(opens, delegations, locks, lostDelegations, lost);
  }

  /**
   * Null if {@code f} succeeded; the failure if only this item is lost. Throws {@link Refused} for a
   * refusal of the whole reclaim, and the failure itself when the session failed or the server
   * restarted again (the next reclaim takes over).
   */
  private DafsException outcome(CompletableFuture<?> f, int epoch) throws Refused, DafsException {
    try {
      f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      DafsException d = DafsException.of(e.getCause());
      if (d.status() == Status.NO_GRACE || d.status() == Status.RECLAIM_BAD) {
        throw new Refused(d);
      }
      if (pipeline.restarts() != epoch || pipeline.failure() != null) {
        throw d;
      }
      return d;
    } catch (TimeoutException e) {
      throw new DafsException(Status.TIMEDOUT, "no answer to a reclaim within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DafsException(Status.IO, "interrupted during a reclaim");
    }
  }
}
