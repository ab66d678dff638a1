package org.cachedafs.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;

/**
 * Keeps the session's lease: a SESSION_RENEW every third of it, so that a renewal held up by a
 * reconnect still leaves time before the server lets the session go. Each renewal's reply also lists
 * the delegations the server revoked from this session, so a holder whose recall never arrived learns
 * of it within that period.
 */
final class LeaseRenewer {
  private final RequestPipeline pipeline;
  private final CallbackDispatcher callbacks;
  private final Link link;
  private final ScheduledExecutorService timer;
  private final HeldState held;

  LeaseRenewer(RequestPipeline pipeline, CallbackDispatcher callbacks, Link link, ScheduledExecutorService timer, HeldState held) {
    this.held = held;
    this.pipeline = pipeline;
    this.callbacks = callbacks;
    this.link = link;
    this.timer = timer;
  }

  /** Renews every third of {@code leaseMillis} until the timer shuts down. */
  void start(int leaseMillis) {
    long period = Math.max(1, leaseMillis / 3);
    timer.scheduleAtFixedRate(this::renewQuietly, period, period, TimeUnit.MILLISECONDS);
  }

  CompletableFuture<Void> renew() {
    return pipeline.call(Opcode.SESSION_RENEW, Requests.NoArgs.INSTANCE, Replies.Renewed.class).thenApply(r -> {
      r.revokedDelegations().forEach(held::delegationGone); // not to be reclaimed after a restart
      callbacks.revoked(r.revokedDelegations());
      return null;
    });
  }

  /**
   * A renewal nobody waits for. The server no longer knowing the session ends it here; any other
   * failure is a loss the reconnect repairs, or one the next renewal retries.
   */
  private void renewQuietly() {
    renew().whenComplete((v, e) -> {
      Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof DafsException de && (de.status() == Status.BADSESSION || de.status() == Status.EXPIRED)) {
        link.die(de);
      }
    });
  }
}
