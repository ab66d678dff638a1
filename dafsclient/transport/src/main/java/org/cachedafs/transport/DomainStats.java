package org.cachedafs.transport;

/**
 * Counters of a domain since it opened.
 *
 * @param registrations regions ever registered
 * @param placedBytes bytes a peer's one-sided writes and this side's one-sided reads put into this
 *     domain's regions, straight from the wire
 * @param stagedBytes of those, bytes that went through an intermediate buffer first (0 for a
 *     direct-placement transport)
 * @param discardedBytes bytes of one-sided writes that arrived for a region already closed, and were dropped
 * @param largestMessage the largest message buffer allocated for a received message
 */
public record DomainStats(long registrations, long placedBytes, long stagedBytes, long discardedBytes, long largestMessage) {}
