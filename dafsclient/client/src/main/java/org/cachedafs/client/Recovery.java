package org.cachedafs.client;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Status;
import org.slf4j.Logger;

/**
 * What the session does once the server it lived in restarted and it has a new session there (the
 * {@link Link} made it and installed its connection; the pipeline holds every request back): reclaims
 * what it held ({@link Reclaimer}) on a thread of its own, then lets the held requests go, in order,
 * and tells the recall listener; so the application sees a pause. If the reclaim is refused (the grace
 * period is over, or the server never recorded this client) the session dies with that cause, and the
 * listener hears of it as the session's loss, as after a lease that ran out.
 *
 * <p>The reclaim waits for replies, some of which may be DELAYed and resent by the timer thread, and
 * for reconnects that the timer thread runs: so it runs on none of the session's other threads.
 */
final class Recovery {
  private static final Logger log = Loggers.get(Recovery.class);

  private final RequestPipeline pipeline;
  private final Reclaimer reclaimer;
  private final CallbackDispatcher callbacks;
  private final Consumer<DafsException> die;
  /** Forgets what named the old server's memory (ODAFS references): run when the restart is found. */
  private final Runnable forgetServer;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "dafs-reclaim");
    t.setDaemon(true);
    return t;
  });
  final LongAdder restarts = new LongAdder();
  /** How long the last reclaim took, from the new session to the held requests' release (ns). */
  private volatile long lastReclaimNanos;

  Recovery(RequestPipeline pipeline, Reclaimer reclaimer, CallbackDispatcher callbacks, Consumer<DafsException> die, Runnable forgetServer) {
    this.pipeline = pipeline;
    this.reclaimer = reclaimer;
    this.callbacks = callbacks;
    this.die = die;
    this.forgetServer = forgetServer;
  }

  /** The new session's connection is installed: reclaim in it. On the thread that found the restart. */
  void start(long since) {
    restarts.increment();
    forgetServer.run();
    int epoch = pipeline.restarts();
    try {
      thread.execute(() -> reclaim(epoch, since));
    } catch (RejectedExecutionException e) {
      // The session is closing.
    }
  }

  private void reclaim(int epoch, long since) {
    Reclaimer.Outcome o;
    try {
      o = reclaimer.reclaim();
    } catch (Reclaimer.Refused e) {
      if (pipeline.restarts() == epoch) {
        die.accept(new DafsException(e.cause.status(), "the server restarted and refused this client's reclaim of its opens, locks and delegations: "
            + e.cause.detail(), e.cause));
      }
      return;
    } catch (DafsException e) {
      if (pipeline.restarts() != epoch || pipeline.failure() != null) {
        return; // restarted again (that restart's reclaim takes over), or the session is over
      }
      die.accept(new DafsException(e.status() == Status.OK ? Status.IO : e.status(), "the reclaim after the server restarted failed: " + e.getMessage(), e));
      return;
    }
    if (pipeline.restarts() != epoch) {
      return;
    }
    pipeline.resume();
    lastReclaimNanos = System.nanoTime() - since;
    log.info("session {} reclaimed {} opens, {} delegations and {} locks after the server restarted, in {} ms{}",
        Long.toHexString(pipeline.sessionId()), o.opens(), o.delegations(), o.locks(), lastReclaimNanos / 1_000_000,
        o.lost() == 0 ? "" : "; " + o.lost() + " could not be taken back");
    callbacks.reclaimed(o.lostDelegations());
  }

  long lastReclaimNanos() {
    return lastReclaimNanos;
  }

  void shutdown() {
    thread.shutdownNow();
  }
}
