package org.cachedafs.cache;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.OpenFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When dirty blocks are written back, besides sync, close and recall: every flush interval in the
 * background, and when a writer takes the cache past its dirty limit ({@link DirtyLimits}).
 *
 * <p>Locking: no state of its own besides its thread; each write-back takes its file's locks.
 */
final class WriteBackScheduler {
  private static final Logger log = LoggerFactory.getLogger(WriteBackScheduler.class);

  private final FileRegistry files;
  private final WriteBack writeBack;
  private final DirtyLimits limits;
  private final ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(CacheManager.daemon("dafs-cache-writeback"));

  WriteBackScheduler(FileRegistry files, WriteBack writeBack, DirtyLimits limits, CacheConfig config) {
    this.files = files;
    this.writeBack = writeBack;
    this.limits = limits;
    long every = Math.max(10, config.flushInterval().toMillis());
    flusher.scheduleWithFixedDelay(this::flushAllQuietly, every, every, TimeUnit.MILLISECONDS);
  }

  /** After a cached write: past the dirty limit, the writer writes back before going on. */
  void afterWrite(FileCache fc, OpenFile writer) throws IOException {
    if (!limits.overLimit()) {
      return;
    }
    writeBack.flush(fc, writer);
    if (limits.overLimit()) {
      flushAllQuietly();
    }
  }

  /** Writes back every file's dirty blocks; failures are recorded for the opens, and logged. */
  void flushAllQuietly() {
    for (FileCache fc : files.all()) {
      if (fc.hasDirty()) {
        try {
          writeBack.flush(fc, fc.writer());
        } catch (IOException e) {
          log.warn("background write-back of {} failed: {}", fc.handle, e.getMessage());
        }
      }
    }
  }

  /** Stops the background write-back (the cache closes, and writes everything back itself). */
  void stop() {
    flusher.shutdownNow();
  }
}
