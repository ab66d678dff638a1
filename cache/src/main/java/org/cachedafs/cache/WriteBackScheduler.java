package org.cachedafs.cache;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.cachedafs.client.OpenFile;
import org.cachedafs.logging.Loggers;
import org.slf4j.Logger;

/**
 * When dirty blocks are written back, besides sync, close and recall: every flush interval, in the
 * background as soon as dirty blocks pass the low watermark, and by a writer itself only at the hard
 * limit ({@link DirtyLimits}). Before, a writer past a single limit wrote its whole file back before
 * going on: the benchmark's random writes over a file half the cache's size ran at half the uncached
 * speed, with a p99.9 of 62 ms, every few hundred writes waiting behind a flush of thousands of blocks.
 *
 * <p>The background write-back runs on the scheduler's one thread, a pass over every file with dirty
 * blocks, again while dirty blocks stay past the low watermark and a pass brings them down. Each file's
 * write-back keeps several transfers in flight ({@link WriteBack}), within its share of the session's
 * credits.
 *
 * <p>Locking: {@link #running} (atomic) makes at most one background pass queued or running; each
 * write-back takes its file's locks.
 */
final class WriteBackScheduler {
  private static final Logger log = Loggers.get(WriteBackScheduler.class);
  /** The longest pause of a throttled writer, at the hard limit. */
  private static final long MAX_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private final FileRegistry files;
  private final WriteBack writeBack;
  private final DirtyLimits limits;
  private final Counters counters;
  private final ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(CacheManager.daemon("dafs-cache-writeback"));
  /** A background pass is queued or running. */
  private final AtomicBoolean running = new AtomicBoolean();

  WriteBackScheduler(FileRegistry files, WriteBack writeBack, DirtyLimits limits, Counters counters, CacheConfig config) {
    this.files = files;
    this.writeBack = writeBack;
    this.limits = limits;
    this.counters = counters;
    long every = Math.max(10, config.flushInterval().toMillis());
    flusher.scheduleWithFixedDelay(this::flushAllQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * After a cached write that dirtied at least one more block: nothing below the low watermark; past
   * it, start the background write-back; past the throttle point, pause a little; past the hard limit,
   * write the file back before going on.
   */
  void afterDirtying(FileCache fc, OpenFile writer) throws IOException {
    int d = limits.dirty();
    if (d <= limits.low) {
      return;
    }
    startBackground();
    if (d <= limits.throttle) {
      return;
    }
    if (d <= limits.high) {
      counters.writerThrottles.increment();
      LockSupport.parkNanos(MAX_PAUSE_NANOS * (d - limits.throttle) / Math.max(1, limits.high - limits.throttle));
      return;
    }
    counters.writerStalls.increment();
    writeBack.flush(fc, writer);
    if (limits.dirty() > limits.high) {
      flushAllQuietly();
    }
  }

  /** Starts a background pass unless one is queued or running. */
  private void startBackground() {
    if (running.get() || !running.compareAndSet(false, true)) {
      return;
    }
    try {
      flusher.execute(this::background);
    } catch (RejectedExecutionException closing) {
      running.set(false); // the cache is closing, and writes everything back itself
    }
  }

  private void background() {
    counters.backgroundWriteBacks.increment();
    try {
      while (limits.dirty() > limits.low && !Thread.currentThread().isInterrupted()) {
        int before = limits.dirty();
        for (FileCache fc : files.all()) {
          if (limits.dirty() <= limits.low) {
            break;
          }
          flushQuietly(fc);
        }
        if (limits.dirty() >= before) {
          break; // writers dirty blocks as fast as they go back: the next one to dirty a block starts another pass
        }
      }
    } finally {
      running.set(false);
    }
  }

  /**
   * Writes back every file's dirty blocks on the write-back thread, now rather than at the next
   * interval: after a server restart, once the session has its delegations back, so that what the
   * application wrote reaches the server's disk soon.
   */
  void flushAllSoon() {
    try {
      flusher.execute(this::flushAllQuietly);
    } catch (RejectedExecutionException closing) {
      // The cache is closing, and writes everything back itself.
    }
  }

  /** Writes back every file's dirty blocks; failures are recorded for the opens, and logged. */
  void flushAllQuietly() {
    for (FileCache fc : files.all()) {
      flushQuietly(fc);
    }
  }

  private void flushQuietly(FileCache fc) {
    if (fc.hasDirty()) {
      try {
        writeBack.flush(fc, fc.writer());
      } catch (IOException e) {
        log.warn("background write-back of {} failed: {}", fc.handle, e.getMessage());
      }
    }
  }

  /** Stops the background write-back (the cache closes, and writes everything back itself). */
  void stop() {
    flusher.shutdownNow();
  }
}
