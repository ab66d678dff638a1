package org.cachedafs.cache;

/**
 * Counters of a cache since it started, read at run time.
 *
 * @param hits block lookups served from the cache
 * @param misses block lookups that read the block from the server
 * @param evictions clean blocks the policy evicted to make room
 * @param readAheadIssued blocks read ahead
 * @param readAheadUsed of those, blocks a reader then hit
 * @param bytesFlushed dirty bytes written back to the server
 * @param writeBacks the transfers that wrote them: one per dirty block, or one per run of adjacent
 *     dirty blocks gathered into a single transfer
 * @param writeThroughs writes sent straight to the server (no WRITE delegation, or uncached)
 * @param recalls delegations the server recalled
 * @param returns delegations handed back
 * @param revocations delegations the server revoked (or lost with the session)
 * @param recallToReturnNanos total time from recall to the server's acknowledgement of the return
 * @param lostBytes dirty bytes dropped because their delegation was revoked (each reported as an I/O error)
 * @param blocks blocks in the cache
 * @param usedBlocks blocks holding file data now (clean or dirty)
 * @param dirtyBlocks blocks waiting to be written back
 * @param slabs slabs, each registered once with the transport
 * @param memoryLocked whether the slabs are locked in RAM
 * @param writerThrottles cached writes that paused briefly because dirty blocks neared the hard limit
 *     (none while dirty blocks are below the low watermark)
 * @param writerStalls cached writes after which the writer wrote its file back itself, at the hard limit
 * @param writeBacksInFlight write-back transfers under way now
 * @param backgroundWriteBacks passes of the background write-back started past the low watermark
 */
public record CacheStats(long hits, long misses, long evictions, long readAheadIssued, long readAheadUsed, long bytesFlushed,
    long writeBacks, long writeThroughs, long recalls, long returns, long revocations, long recallToReturnNanos, long lostBytes,
    int blocks, int usedBlocks, int dirtyBlocks, int slabs, boolean memoryLocked, long writerThrottles, long writerStalls,
    int writeBacksInFlight, long backgroundWriteBacks) {}
