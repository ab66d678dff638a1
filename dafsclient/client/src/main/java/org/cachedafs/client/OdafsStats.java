package org.cachedafs.client;

/**
 * Counters of a session's optimistic direct reads of the server's exported cache (ODAFS,
 * docs/odafs.md). Every read the session makes with ODAFS on ends in exactly one of
 * {@code accepted}, or a fallback to an RPC read ({@code fallbacks}) for one of the reasons counted.
 *
 * @param attempts reads tried optimistically (every block they touch had a reference)
 * @param accepted reads served wholly by one-sided reads that validated: no server CPU on shm
 * @param blocksAccepted blocks read and accepted
 * @param tornRetried slot copies caught changing, and read once more
 * @param tornDropped slot copies caught changing twice: the reference was dropped
 * @param changed slot copies that were stable but no longer the block or generation referenced
 *     (rewritten, evicted and reused, truncated, removed, another server run): the reference was dropped
 * @param shortBlocks slot copies whose valid bytes did not cover the range read (the end of the file)
 * @param failed one-sided reads the transport failed or refused (a refused read also closes the connection)
 * @param noReference reads that had no reference for some block they touch
 * @param fallbacks reads served by an RPC read instead (asking for fresh references)
 * @param referencesReceived references the server gave
 */
public record OdafsStats(long attempts, long accepted, long blocksAccepted, long tornRetried, long tornDropped, long changed,
    long shortBlocks, long failed, long noReference, long fallbacks, long referencesReceived) {}
