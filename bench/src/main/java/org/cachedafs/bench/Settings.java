package org.cachedafs.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sizes and times of a run; {@link BenchMain}'s options, and the defaults of the standard suite.
 *
 * @param largeBytes the file many times the cache
 * @param fitsBytes the file that fits in the cache
 * @param writeBytes the sequential write's file
 * @param cacheBytes the client cache
 * @param blockSize the client cache's block
 * @param hotBytes the hit probe's hot set (fits in the CPU caches)
 * @param hitLargeBytes the hit probe's large set, 0 to skip it
 * @param hitOps reads per hit-probe round
 * @param cellSeconds the timed part of each random-access cell
 * @param seqSeconds the time limit of one sequential pass
 * @param zipfSkew the Zipf exponent
 * @param clients client processes of the multi-client workload, 0 to skip it
 * @param pingPongTurns turns of each player, 0 to skip the ping-pong
 * @param dbSeconds the timed part of each database cell, 0 to skip it
 * @param h2Settings appended to the database's JDBC URL
 * @param transportBytes bytes the physical reference moves over the raw transport
 * @param sweepBlockSizes block sizes of the block-size sweep; empty to skip
 * @param sweepCacheBytes cache sizes of the cache-size sweep; empty to skip
 * @param sweepReadAhead whether to sweep read-ahead on and off
 * @param seed the seed of every access pattern
 * @param repeat how many times each measured cell runs, configurations round-robin
 * @param serverCpuReads 4 KiB direct reads per transport and read path for the server-CPU probe (0: none)
 * @param odafsClients client processes of the ODAFS server-throughput probe (0: none)
 * @param odafsSeconds the timed part of the throughput probe, per transport and read path
 * @param restarts server restarts (kill -9) the restart probe times an application's pause across,
 *     once per run; 0 skips the probe, the time to reclaim with it
 * @param fioBytes the file fio reads on the FUSE mount and on the local file system
 * @param fioSeconds the timed part of each fio job; 0 skips fio on the mount
 */
record Settings(long largeBytes, long fitsBytes, long writeBytes, long cacheBytes, int blockSize, long hotBytes,
    long hitLargeBytes, int hitOps, double cellSeconds, double seqSeconds, double zipfSkew, int clients, int pingPongTurns,
    double dbSeconds, String h2Settings, long transportBytes, List<Integer> sweepBlockSizes, List<Long> sweepCacheBytes, boolean sweepReadAhead,
    long seed, int repeat, int serverCpuReads, int odafsClients, double odafsSeconds, int restarts,
    long fioBytes, double fioSeconds) {

  /** The values, for the run's record. */
  Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (java.lang.reflect.RecordComponent c : Settings.class.getRecordComponents()) {
      try {
        m.put(c.getName(), c.getAccessor().invoke(this));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
    return m;
  }
}
