package org.cachedafs.delegation;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The outcome of checking an operation against other clients' delegations.
 *
 * @param toRecall delegations newly moved to recalling: the caller sends each holder a recall
 * @param resolved completes when every conflicting delegation has been returned or revoked; then the
 *     operation may go ahead (after checking again, since new opens may have come and gone)
 */
public record Conflict<F, H>(List<Grant<F, H>> toRecall, CompletableFuture<Void> resolved) {
  private static final Conflict<?, ?> NONE = new Conflict<>(List.of(), CompletableFuture.completedFuture(null));

  @SuppressWarnings("unchecked")
  public static <F, H> Conflict<F, H> none() {
    return (Conflict<F, H>) NONE;
  }

  public boolean isNone() {
    return this == NONE;
  }
}
