package org.cachedafs.client;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The client's own reckoning of its lease. The server renews a session's lease whenever one of its
 * requests arrives, so a reply to a request sent at {@code t} proves that the lease runs at least until
 * {@code t + lease}: the server's lease started no earlier than the request's arrival. Past the latest
 * such time, with no reply to a newer request, the lease may have run out (a partition, a stall) and
 * the server may have given the session's delegations to others: {@link #held} is false until a
 * reply to a request sent since then comes.
 *
 * <p>Its timer is one daemon thread shared by every session of the JVM, not the session's timer, which
 * the reconnect holds for as long as it runs: a lapse must be seen on time, however the connection
 * fares. The timer only flips a flag.
 *
 * <p>Locking: none. {@link #heard} moves {@code until} forward by compare-and-set, then sets the flag;
 * the timer clears the flag, then reads {@code until} again and sets it back if a reply came meanwhile,
 * so the two never leave the flag false while the lease is known to be held.
 */
final class LeaseClock {
  private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "dafs-lease-clock");
    t.setDaemon(true);
    return t;
  });

  /** The lease as last granted; set once, before the session is created. */
  private volatile IntSupplier leaseMillis = () -> 0;
  /** nanoTime until which the lease is known to be held. */
  private final AtomicLong until = new AtomicLong();
  private volatile boolean held;
  private volatile boolean stopped;
  /** The one pending check; replaced by each check as it reschedules itself. */
  private volatile ScheduledFuture<?> next;

  /** Where the lease granted to the session is read (it may change at each bind). */
  void leaseFrom(IntSupplier leaseMillis) {
    this.leaseMillis = leaseMillis;
  }

  /** A reply came to a request sent at {@code sentAt} (nanoTime) that renewed the lease on the server. */
  void heard(long sentAt) {
    long u = sentAt + TimeUnit.MILLISECONDS.toNanos(leaseMillis.getAsInt());
    long prev = until.get();
    while (u - prev > 0 && !until.compareAndSet(prev, u)) {
      prev = until.get();
    }
    if (!held && !stopped && until.get() - System.nanoTime() > 0) {
      held = true;
    }
  }

  /** Starts checking, once the session exists (its create reply was {@link #heard}). */
  void start() {
    schedule(0);
  }

  boolean held() {
    return held;
  }

  void stop() {
    stopped = true;
    held = false;
    ScheduledFuture<?> f = next;
    if (f != null) {
      f.cancel(false);
    }
  }

  private void check() {
    if (stopped) {
      return;
    }
    long left = until.get() - System.nanoTime();
    if (left <= 0) {
      held = false;
      if (until.get() - System.nanoTime() > 0) {
        held = true; // a reply came between the two reads
      }
      // Lapsed: heard() brings it back; look again now and then only to find the next deadline.
      schedule(TimeUnit.MILLISECONDS.toNanos(Math.max(1, leaseMillis.getAsInt() / 10)));
    } else {
      schedule(left);
    }
  }

  private void schedule(long delayNanos) {
    if (!stopped) {
      next = TIMER.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
    }
  }
}
