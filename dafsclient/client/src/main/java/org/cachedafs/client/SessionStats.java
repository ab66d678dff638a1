package org.cachedafs.client;

import org.cachedafs.transport.DomainStats;

/**
 * Counters of one client session.
 *
 * @param requestsSent requests handed to the transport, retransmissions included
 * @param retransmissions requests sent again after a reconnect or a DELAY
 * @param reconnects connections re-established and bound to the session
 * @param inFlight requests sent and not yet answered
 * @param maxInFlight the most requests ever outstanding at once; never more than {@code credits}
 * @param credits slots the server granted
 * @param domain the session's registered memory
 * @param serverRestarts restarts of the server the session lived through (each found at a reconnect,
 *     by the server's new boot verifier, and followed by a reclaim)
 * @param lastReclaimNanos how long the last reclaim took, from finding the restart to letting the
 *     held requests go; 0 before any
 */
public record SessionStats(long requestsSent, long retransmissions, long reconnects, int inFlight, int maxInFlight, int credits, DomainStats domain,
    long serverRestarts, long lastReclaimNanos) {}
