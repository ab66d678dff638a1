package org.cachedafs.server;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.cachedafs.transport.Connection;

/**
 * Runs one session's operations on the shared worker pool: at most {@code maxRunning} at a time,
 * and none while its connection holds more unsent bytes than its high water.
 *
 * <p>Without the first bound a session could hold every worker (64 credits of direct reads to a
 * peer that stopped reading each wait for their transfer). Without the second, a client that sends a
 * hundred 1 MiB READs and reads no reply would have the server build a hundred megabytes of replies
 * that nobody takes. Here the rest of a session's admitted requests wait in its own queue, which its
 * credits bound, and resume when its connection drains (or closes: their replies are then kept in
 * the reply cache for the client's reconnect). A session that stalls stalls only itself.
 */
final class SessionRunQueue {
  private final int maxRunning;
  private final Executor workers;
  /** The session's connection now (it changes on a reconnect); null while it has none. */
  private final Supplier<Connection> connection;
  /** Guarded by this. */
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  /** Guarded by this. */
  private int running;
  /** Guarded by this: a drain callback is registered with the connection. */
  private boolean awaitingDrain;

  SessionRunQueue(int maxRunning, Executor workers, Supplier<Connection> connection) {
    this.maxRunning = maxRunning;
    this.workers = workers;
    this.connection = connection;
  }

  /** Runs {@code task} now or after this session's earlier tasks. */
  void submit(Runnable task) {
    synchronized (this) {
      waiting.add(task);
    }
    startWhatMay();
  }

  /**
   * Claims a place for a task the caller runs itself, now, on its own thread: only when nothing of
   * this session runs or waits and its connection is writable, so that running it inline can neither
   * overtake the session's queue nor pass its bounds. The caller runs the task, then calls
   * {@link #inlineDone}.
   */
  boolean tryClaimInline() {
    Connection c = connection.get();
    boolean writable = c == null || !c.isOpen() || c.isWritable();
    synchronized (this) {
      if (!writable || running > 0 || !waiting.isEmpty()) {
        return false;
      }
      running++;
      return true;
    }
  }

  /** Ends a task run inline after {@link #tryClaimInline}. */
  void inlineDone() {
    synchronized (this) {
      running--;
    }
    startWhatMay();
  }

  /** Starts waiting tasks while within the bounds; if the connection is what holds them, asks to be called back. */
  private void startWhatMay() {
    while (true) {
      Runnable task;
      Connection c = connection.get();
      boolean writable = c == null || !c.isOpen() || c.isWritable();
      synchronized (this) {
        if (waiting.isEmpty() || running >= maxRunning) {
          return;
        }
        if (!writable) {
          if (awaitingDrain) {
            return;
          }
          awaitingDrain = true;
        } else {
          task = waiting.poll();
          running++;
          start(task);
          continue;
        }
      }
      c.whenWritable(this::drained);
      return;
    }
  }

  private void drained() {
    synchronized (this) {
      awaitingDrain = false;
    }
    startWhatMay();
  }

  /** Guarded by this (called under it): hands the task to a worker, which starts the next on its way out. */
  private void start(Runnable task) {
    try {
      workers.execute(() -> {
        try {
          task.run();
        } finally {
          synchronized (this) {
            running--;
          }
          startWhatMay();
        }
      });
    } catch (RejectedExecutionException e) {
      // Shutting down: what waits has nobody to answer.
      running--;
      waiting.clear();
    }
  }
}
