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
 */
public record SessionStats(long requestsSent, long retransmissions, long reconnects, int inFlight, int maxInFlight, int credits, DomainStats domain) {}
