package org.cachedafs.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Lock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.cachedafs.logging.Loggers;

/**
 * For providers: what a connection's send queue owes the callers of
 * {@link Connection#whenWritable} (run once the backlog has drained to half the high water of its
 * {@link ConnectionLimits}) and {@link Connection#closeAfterSending} (run once the queue is empty),
 * or either once the connection has closed. Written once, so that every provider keeps the same
 * promise.
 *
 * <p>The queue's state is read, and callbacks are kept and taken, under the queue's own lock; the
 * callbacks themselves always run after it is released. The queue calls {@link #due} under its lock
 * whenever it shrinks or closes, and runs what it got with {@link #runAll}.
 */
public final class QueueWaiters {
  private final Lock lock;
  private final long highWater;
  private final LongSupplier backlog;
  private final BooleanSupplier empty;
  private final BooleanSupplier closed;
  /** Guarded by lock. */
  private Runnable onEmpty;
  /** Guarded by lock. */
  private final List<Runnable> onDrained = new ArrayList<>();

  /**
   * @param lock the queue's lock
   * @param backlog the bytes queued, read under the lock
   * @param empty whether the queue is empty, read under the lock
   * @param closed whether the connection has closed, read under the lock
   */
  public QueueWaiters(Lock lock, ConnectionLimits limits, LongSupplier backlog, BooleanSupplier empty, BooleanSupplier closed) {
    this.lock = lock;
    this.highWater = limits.queueHighWater();
    this.backlog = backlog;
    this.empty = empty;
    this.closed = closed;
  }

  /** {@link Connection#whenWritable}: runs {@code r} now if writable or closed, else once drained to half the high water. */
  public void whenWritable(Runnable r) {
    lock.lock();
    try {
      if (!closed.getAsBoolean() && backlog.getAsLong() > highWater) {
        onDrained.add(r);
        return;
      }
    } finally {
      lock.unlock();
    }
    r.run();
  }

  /** Runs {@code r} once everything queued so far is written (now, if it is), or when the connection closes. */
  public void whenEmpty(Runnable r) {
    lock.lock();
    try {
      if (!closed.getAsBoolean() && !empty.getAsBoolean()) {
        onEmpty = r;
        return;
      }
    } finally {
      lock.unlock();
    }
    r.run();
  }

  /** Under the queue's lock: takes the callbacks due now, each only once, to {@linkplain #runAll run} after unlocking. */
  public List<Runnable> due() {
    List<Runnable> due = new ArrayList<>(2);
    boolean isClosed = closed.getAsBoolean();
    if (onEmpty != null && (isClosed || empty.getAsBoolean())) {
      due.add(onEmpty);
      onEmpty = null;
    }
    if (!onDrained.isEmpty() && (isClosed || backlog.getAsLong() <= highWater / 2)) {
      due.addAll(onDrained);
      onDrained.clear();
    }
    return due;
  }

  /** Runs callbacks each on its own, so that one that throws does not keep the others from running. */
  public static void runAll(List<Runnable> due) {
    for (Runnable r : due) {
      try {
        r.run();
      } catch (RuntimeException e) {
        Loggers.get(QueueWaiters.class).warn("a send queue callback failed", e);
      }
    }
  }
}
