package org.cachedafs.server;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs one session's operations on the shared worker pool, at most {@code maxRunning} at a time.
 *
 * <p>Without it a session could hold every worker: 64 credits of direct reads to a peer that stopped
 * reading each wait for their transfer, and every other client waits behind them. Here the rest of
 * a session's admitted requests wait in its own queue, which its credits bound, so a session that
 * stalls stalls only itself.
 */
final class SessionRunQueue {
  private final int maxRunning;
  private final Executor workers;
  /** Guarded by this. */
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  /** Guarded by this. */
  private int running;

  SessionRunQueue(int maxRunning, Executor workers) {
    this.maxRunning = maxRunning;
    this.workers = workers;
  }

  /** Runs {@code task} now or after this session's earlier tasks. */
  void submit(Runnable task) {
    synchronized (this) {
      if (running >= maxRunning) {
        waiting.add(task);
        return;
      }
      running++;
    }
    try {
      start(task);
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        running--;
      }
      throw e;
    }
  }

  private void start(Runnable task) {
    workers.execute(() -> {
      try {
        task.run();
      } finally {
        next();
      }
    });
  }

  private void next() {
    Runnable task;
    synchronized (this) {
      task = waiting.poll();
      if (task == null) {
        running--;
        return;
      }
    }
    try {
      start(task);
    } catch (RejectedExecutionException e) {
      // Shutting down: what waits has nobody to answer.
      synchronized (this) {
        running--;
        waiting.clear();
      }
    }
  }
}
