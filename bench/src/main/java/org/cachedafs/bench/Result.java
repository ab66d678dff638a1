package org.cachedafs.bench;

import java.util.Map;

/**
 * One (workload, configuration) measurement: one JSON record, one CSV row, one table line. Times count
 * only the I/O calls (and the final fsync of a write workload); the data checks between calls are not
 * timed. docs/results-schema.json is the schema.
 *
 * @param workload the workload's name
 * @param config local, uncached, cached, nio or nfs
 * @param clients client processes that ran it at once (1 unless multi-client)
 * @param ioSize bytes per operation
 * @param fileBytes size of the file set
 * @param ops operations timed
 * @param bytes bytes moved by them
 * @param seconds their total time
 * @param mbPerSec bytes / seconds, in 10^6 bytes per second
 * @param opsPerSec ops / seconds
 * @param p50Us median latency of one operation, microseconds
 * @param p99Us 99th percentile
 * @param p999Us 99.9th percentile
 * @param verified whether every byte checked was right (a run with a wrong byte fails instead)
 * @param cache the client cache's counters for the cell, empty where there is no cache in this JVM
 * @param note anything a reader of the number must know
 */
record Result(String workload, String config, int clients, int ioSize, long fileBytes, long ops, long bytes,
    double seconds, double mbPerSec, double opsPerSec, double p50Us, double p99Us, double p999Us, boolean verified,
    Map<String, Long> cache, String note) {

  Result withCache(Map<String, Long> c) {
    return new Result(workload, config, clients, ioSize, fileBytes, ops, bytes, seconds, mbPerSec, opsPerSec, p50Us, p99Us,
        p999Us, verified, c, note);
  }

  Result withNote(String n) {
    return new Result(workload, config, clients, ioSize, fileBytes, ops, bytes, seconds, mbPerSec, opsPerSec, p50Us, p99Us,
        p999Us, verified, cache, n);
  }

  Result withWorkload(String name) {
    return new Result(name, config, clients, ioSize, fileBytes, ops, bytes, seconds, mbPerSec, opsPerSec, p50Us, p99Us,
        p999Us, verified, cache, note);
  }
}
