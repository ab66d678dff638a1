package org.cachedafs.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.RecallListener;
import org.cachedafs.delegation.DelegationTracker;
import org.cachedafs.delegation.DelegationType;
import org.cachedafs.delegation.ReturnResult;
import org.cachedafs.delegation.Ticker;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Status;

/**
 * Binds a session's delegations to a {@link DelegationTracker}: the session's recalls go to the
 * tracker, the tracker's returns go out as DELEGRETURN, and the caching layer is the tracker's
 * listener, asked to flush before each return and told of each revocation.
 *
 * <p>Keyed by file handle: one delegation per file per session.
 */
public final class SessionDelegations {
  private final DafsSession session;
  private final DelegationTracker<FileHandle> tracker;

  public SessionDelegations(DafsSession session, DelegationTracker.Listener<FileHandle> listener) {
    this(session, listener, Ticker.system(), () -> { });
  }

  /**
   * @param reclaimed run (on the session's callback thread) when the server restarted and the session
   *     took its delegations back under their old ids: what is cached under them is still good, and
   *     what is dirty may be written back
   */
  public SessionDelegations(DafsSession session, DelegationTracker.Listener<FileHandle> listener, Ticker ticker, Runnable reclaimed) {
    this.session = session;
    // A recall that overtakes its grant is remembered for a lease: by then the server has revoked it.
    long ttl = TimeUnit.MILLISECONDS.toNanos(session.lease().toMillis());
    this.tracker = new DelegationTracker<>(ticker, ttl, listener, this::sendReturn);
    session.setRecallListener(new RecallListener() {
      @Override
      public void onRecall(long id, FileHandle handle) {
        boolean known = tracker.state(id) != null;
        tracker.recall(id);
        if (!known) {
          // Either its open reply is still being processed (the tracker applies the recall when it is
          // registered), or the open was made on the session directly and nobody caches under it: then,
          // after a grace, hand it back rather than make the other client wait for the lease.
          CompletableFuture.delayedExecutor(UNKNOWN_RECALL_GRACE_MILLIS, TimeUnit.MILLISECONDS).execute(() -> {
            if (tracker.state(id) == null) {
              tracker.abandon(id);
              session.returnDelegationAsync(id, handle);
            }
          });
        }
      }

      @Override
      public void sessionLost(DafsException cause) {
        tracker.sessionLost();
      }

      @Override
      public void revoked(long id) {
        tracker.revoked(id);
      }

      @Override
      public void reclaimed() {
        reclaimed.run();
      }
    });
  }

  /** How long a recall of a delegation this client never registered waits for its grant to show up. */
  static final long UNKNOWN_RECALL_GRACE_MILLIS = 200;

  /**
   * Registers the delegation an open came with, if any. Returns whether the client may cache under it:
   * false when the open came without one, or with one this client already returned or lost (the open
   * reply was overtaken by the return).
   */
  public boolean opened(OpenFile file) {
    return file.hasDelegation()
        && tracker.granted(file.delegationId(), file.handle(), file.hasWriteDelegation() ? DelegationType.WRITE : DelegationType.READ);
  }

  /** This client removed the file: the server dropped its delegation without a recall. */
  public void fileRemoved(long delegationId) {
    tracker.forget(delegationId);
  }

  public DelegationTracker<FileHandle> tracker() {
    return tracker;
  }

  /**
   * Reports a DELEG_REVOKED from a read or write the server refused: the tracker tells the listener,
   * which drops what it cached and reports any unflushed loss.
   */
  public void refused(OpenFile file, DafsException e) {
    if (e.status() == Status.DELEG_REVOKED && file.hasDelegation()) {
      tracker.revoked(file.delegationId());
    }
  }

  private CompletableFuture<ReturnResult> sendReturn(DelegationTracker.Held<FileHandle> held) {
    return session.returnDelegationAsync(held.id(), held.key()).handle((v, err) -> {
      if (err == null) {
        return ReturnResult.RETURNED;
      }
      Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (cause instanceof DafsException d) {
        if (d.status() == Status.DELEG_REVOKED) {
          return ReturnResult.REVOKED;
        }
        if (d.status() == Status.BAD_STATEID) {
          return ReturnResult.UNKNOWN;
        }
      }
      throw new CompletionException(cause);
    });
  }
}
