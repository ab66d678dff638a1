package org.cachedafs.bench;

import java.util.Map;

/**
 * One (workload, configuration) measurement: one JSON record, one CSV row, one table line.
 * docs/results-schema.json is the schema.
 *
 * @param workload the workload's name
 * @param config local, uncached, cached, nio or nfs
 * @param clients client processes that ran it at once (1 unless multi-client)
 * @param repeat which repetition of the cell this is, from 1 (see {@code --repeat})
 * @param ioSize bytes per operation
 * @param fileBytes size of the file set
 * @param ops operations timed
 * @param bytes bytes moved by them
 * @param seconds the time of the timed part: for sequential and write workloads its wall-clock time
 *     less the runner's filling and checking of the data (read-ahead and write-back go on between
 *     calls, so the rest of the time between them counts, and a write workload's final fsync); for
 *     random reads the time inside the calls (nothing runs between them)
 * @param mbPerSec bytes / seconds, in 10^6 bytes per second
 * @param opsPerSec ops / seconds
 * @param p50Us median latency of one operation, microseconds
 * @param p99Us 99th percentile
 * @param p999Us 99.9th percentile
 * @param verified whether every byte checked was right (a run with a wrong byte fails instead)
 * @param cache the client cache's counters over the timed part (gauges at its end), empty where
 *     there is no cache in the measuring JVM
 * @param note anything a reader of the number must know
 */
record Result(String workload, String config, int clients, int repeat, int ioSize, long fileBytes, long ops, long bytes,
    double seconds, double mbPerSec, double opsPerSec, double p50Us, double p99Us, double p999Us, boolean verified,
    Map<String, Long> cache, String note) {

  Result withNote(String n) {
    return new Result(workload, config, clients, repeat, ioSize, fileBytes, ops, bytes, seconds, mbPerSec, opsPerSec, p50Us, p99Us,
        p999Us, verified, cache, note.isEmpty() ? n : n + "; " + note);
  }

  Result withWorkload(String name) {
    return new Result(name, config, clients, repeat, ioSize, fileBytes, ops, bytes, seconds, mbPerSec, opsPerSec, p50Us, p99Us,
        p999Us, verified, cache, note);
  }

  Result withRepeat(int r) {
    return new Result(workload, config, clients, r, ioSize, fileBytes, ops, bytes, seconds, mbPerSec, opsPerSec, p50Us, p99Us,
        p999Us, verified, cache, note);
  }
}
