package org.cachedafs.client;

import org.cachedafs.protocol.FileHandle;

/**
 * Receives the server's delegation recalls (CB_RECALL), for the layer that caches under delegations.
 *
 * @see DafsSession#setRecallListener
 */
@FunctionalInterface
public interface RecallListener {
  /**
   * The server recalls a delegation. Called on the session's callback thread; it must not block for
   * long there. Whoever handles it flushes what the delegation covers and then calls
   * {@link DafsSession#returnDelegationAsync}. Until it does, the conflicting client waits, at most
   * for the lease, after which the server revokes the delegation.
   */
  void onRecall(long delegationId, FileHandle handle);

  /**
   * The session is gone for good (the server no longer knows it, after a lease that ran out or a
   * restart whose reclaim it refused, or it could not reconnect): every delegation it held is gone
   * with it. Called once.
   */
  default void sessionLost(DafsException cause) {}

  /**
   * The server reports (in a lease renewal) that it revoked this delegation: it was recalled and not
   * returned within the lease, perhaps because the recall never arrived. May be reported more than once.
   */
  default void revoked(long delegationId) {}

  /**
   * The server restarted, and the session took back its opens, locks and delegations in the server's
   * grace period, under their old ids (delegations it could not take back were reported to {@link
   * #revoked} just before). A cache may write back what it holds dirty now. Called on the callback thread.
   */
  default void reclaimed() {}
}
