package org.cachedafs.cache;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.delegation.DelegationTracker;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Status;
import org.slf4j.Logger;

/**
 * A file's delegation life in the cache: grants start caching, recalls write back, drop and return,
 * revocations (from the tracker, or met as a refused transfer) drop and report the loss. Recalls and
 * revocations run on two threads of their own, never on the transport's receive thread, which must not
 * wait on a file's flush lock.
 *
 * <p>Recalls and revocations are matched by delegation id under the file's monitor
 * ({@link FileCache#cachesUnder}), so a late event for a delegation the file no longer holds is
 * ignored, and a recall that lands while an open applies its grant either sees the grant or makes the
 * grant see it recalled.
 *
 * <p>Locking: no state of its own besides its thread pool; grants, recalls and revocations take the
 * file's flush lock, then its monitor.
 */
final class Recalls {
  private static final Logger log = Loggers.get(Recalls.class);

  private final FileRegistry files;
  private final ExecutorService threads = Executors.newFixedThreadPool(2, CacheManager.daemon("dafs-cache-recall"));
  private final SessionDelegations delegations;
  /** Set once by {@link #wire}, in the manager's constructor, before any file is cached. */
  private volatile Invalidation invalidation;
  private volatile WriteBack writeBack;
  private volatile WriteBackScheduler scheduler;
  private final DafsSession session;

  Recalls(DafsSession session, FileRegistry files) {
    this.files = files;
    this.session = session;
    this.delegations = new SessionDelegations(session, new DelegationTracker.Listener<>() {
      @Override
      public CompletableFuture<Void> onRecall(DelegationTracker.Held<FileHandle> d) {
        FileCache fc = files.get(d.key());
        // Asked under the file's monitor, against an open applying this very grant right now: if the
        // file is not cached under it yet, it never will be (the grant finds it recalled).
        if (fc == null || !fc.cachesUnder(d.id())) {
          return CompletableFuture.completedFuture(null); // nothing cached under it: return at once
        }
        Runnable recall = () -> {
          recall(fc, d.id());
          files.forgetIfUnused(fc);
        };
        try {
          return CompletableFuture.runAsync(recall, threads);
        } catch (RejectedExecutionException closing) {
          // The cache is closing and its recall threads are gone; the write-back must still come before
          // the return, so it runs on a thread of its own.
          return CompletableFuture.runAsync(recall, r -> CacheManager.daemon("dafs-cache-recall-at-close").newThread(r).start());
        }
      }

      @Override
      public void onRevoked(DelegationTracker.Held<FileHandle> d) {
        FileCache fc = files.get(d.key());
        if (fc != null) {
          // Off the caller's thread: it may be the transport's receive thread, which must not wait on
          // the file's flush lock. The file checks, under its monitor, that it is cached under d.
          try {
            threads.execute(() -> {
              revoked(fc, d.id());
              files.forgetIfUnused(fc);
            });
          } catch (RejectedExecutionException closing) {
            // The cache is closing: its close drops every file itself.
          }
        }
      }
    }, org.cachedafs.delegation.Ticker.system(), this::reclaimed);
  }

  /** The ones it hands work to, which need it in turn for failures: set once, before any use. */
  void wire(Invalidation invalidation, WriteBack writeBack, WriteBackScheduler scheduler) {
    this.invalidation = invalidation;
    this.writeBack = writeBack;
    this.scheduler = scheduler;
  }

  /**
   * The server restarted and the session took its delegations back: what is cached under them stays,
   * and the dirty blocks go to the server now, through the reclaimed opens.
   */
  private void reclaimed() {
    WriteBackScheduler s = scheduler;
    if (s != null) {
      s.flushAllSoon();
    }
  }

  SessionDelegations delegations() {
    return delegations;
  }

  /**
   * An open came back with a delegation the tracker holds: cache from now on. {@code stillHeld} is asked
   * under the file's monitor, and a recall or revocation asks {@link FileCache#cachesUnder} under it
   * after the tracker has marked the delegation: so either the recall sees this grant, or this grant
   * sees the recall and caches nothing.
   *
   * <p>A delegation other than the one cached under (or the same one after caching under it stopped)
   * starts afresh: whatever is still in the table came from before it, when another client may have
   * written the file, and goes; dirty bytes among it are reported lost, as for a revocation.
   *
   * <p>Applied under the flush lock (taken before the monitor, as write-back takes them): a write-back
   * still in flight for an earlier, revoked delegation lands before the table is dropped, so what it
   * carried is neither reported lost nor read back stale by a fill under the new one.
   */
  void granted(FileCache fc, OpenFile of, BooleanSupplier stillHeld) {
    fc.flushLock.lock();
    try {
      synchronized (fc) {
        int type = of.hasWriteDelegation() ? FileCache.WRITE : of.hasDelegation() ? FileCache.READ : FileCache.NONE;
        if (type == FileCache.NONE || !stillHeld.getAsBoolean()) {
          return;
        }
        if (fc.mode == FileCache.NONE || fc.delegationId != of.delegationId()) {
          // Also ends the epoch: fills begun before this grant must not be published under it.
          invalidation.dropLocked(fc, "they were cached under an earlier delegation, which ended before they were written back");
          // The open's attributes are the server's, and nobody else can change them now.
          fc.cacheUnder(of.delegationId(), type, of.attributes());
          return;
        }
        fc.regranted(type);
      }
    } finally {
      fc.flushLock.unlock();
    }
  }

  /**
   * Delegation {@code id} is recalled: stop caching, let cached writers finish, write back, drop
   * everything. Nothing to do if the file is not cached under {@code id} (its grant never took, or a
   * newer one replaced it and dropped what it left).
   */
  void recall(FileCache fc, long id) {
    synchronized (fc) {
      if (fc.delegationId != id) {
        return;
      }
      // Cached writers hold this monitor and re-check the mode under it: taking it drains them.
      fc.stopCaching();
    }
    writeBackAndDrop(fc, id);
  }

  /** The cache closes: whatever the file is cached under, write it back and drop it. */
  void recallForClose(FileCache fc) {
    long id;
    synchronized (fc) {
      id = fc.delegationId;
      fc.stopCaching();
    }
    writeBackAndDrop(fc, id);
  }

  private void writeBackAndDrop(FileCache fc, long id) {
    fc.flushLock.lock();
    try {
      try {
        writeBack.flushLocked(fc, fc.writer()); // a failed transfer is recorded for the opens to report
      } catch (IOException e) {
        log.warn("write-back on recall of {} failed: {}", fc.handle, e.getMessage());
      }
      invalidation.drop(fc, id, "the write-back when the delegation was recalled failed");
    } finally {
      fc.flushLock.unlock();
    }
  }

  /**
   * Delegation {@code id} was revoked (or lost with the session): drop everything; unflushed bytes are
   * lost. Nothing to do if the file is not cached under {@code id}.
   */
  void revoked(FileCache fc, long id) {
    synchronized (fc) {
      if (fc.delegationId != id) {
        return;
      }
      fc.stopCaching(); // and cached writers are drained, as for a recall
    }
    fc.flushLock.lock();
    try {
      // The session's end names its cause: a lease that ran out, a restart whose grace was over.
      String why = session.failure().map(f -> "the session ended before they were written back: " + f.getMessage())
          .orElse("the server revoked this client's delegation on the file before its writes were written back");
      invalidation.drop(fc, id, why);
    } finally {
      fc.flushLock.unlock();
    }
  }

  /**
   * The exception to report for a failed transfer. DELEG_REVOKED means the server took the delegation
   * away: the file's cache is dropped, and the loss of any unflushed bytes becomes an I/O error.
   */
  IOException ioFailure(FileCache fc, OpenFile of, Throwable t) {
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (cause instanceof DafsException d && d.status() == Status.DELEG_REVOKED) {
      delegations.refused(of, d);
      if (of.hasDelegation()) {
        revoked(fc, of.delegationId());
      }
      return new DafsException(Status.IO, "the server revoked this client's delegation on the file: " + d.getMessage(), d);
    }
    if (cause instanceof IOException io) {
      return io;
    }
    if (cause instanceof InterruptedException) {
      return new InterruptedIOException("interrupted");
    }
    return new DafsException(Status.IO, String.valueOf(cause), cause);
  }

  /** The cache closes: recalls and revocations under way finish (a bounded time); later ones run elsewhere. */
  void shutdown() {
    threads.shutdown();
    try {
      threads.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
