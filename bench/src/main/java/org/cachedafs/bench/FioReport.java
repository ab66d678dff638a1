package org.cachedafs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.Map;

/**
 * What one fio job measured, read from fio's {@code --output-format=json}: its reads only (the runner's
 * fio jobs only read). Latencies are fio's completion latencies ({@code clat_ns}): with the synchronous
 * engine the runner uses ({@code psync}) a read is submitted by the call that completes it, so that is
 * the time of the whole {@code pread(2)}.
 *
 * @param ops reads completed
 * @param bytes bytes they read
 * @param seconds the job's timed run, s (fio reports it in ms)
 * @param opsPerSec fio's IOPS
 * @param bytesPerSec fio's bandwidth, bytes per second
 * @param p50Us median read latency, µs
 * @param p99Us 99th percentile, µs
 * @param p999Us 99.9th percentile, µs
 */
record FioReport(long ops, long bytes, double seconds, double opsPerSec, double bytesPerSec, double p50Us, double p99Us,
    double p999Us) {

  /** Parses fio's JSON report of one job; a job that reports an error, or read nothing, is an IOException. */
  static FioReport parse(String json) throws IOException {
    // fio may print a warning before the report when the report goes to standard output.
    int start = json.indexOf('{');
    if (start < 0) {
      throw new IOException("fio printed no JSON report: " + BenchMain.oneLine(json));
    }
    JsonNode root = Json.mapper().readTree(json.substring(start));
    JsonNode jobs = root.path("jobs");
    if (jobs.size() != 1) {
      throw new IOException("fio's report holds " + jobs.size() + " jobs, not 1");
    }
    JsonNode job = jobs.get(0);
    if (job.path("error").asInt(0) != 0) {
      throw new IOException("fio job " + job.path("jobname").asText() + " failed: error " + job.path("error").asInt());
    }
    JsonNode read = job.path("read");
    long ops = read.path("total_ios").asLong();
    if (ops <= 0) {
      throw new IOException("fio job " + job.path("jobname").asText() + " read nothing");
    }
    JsonNode pct = read.path("clat_ns").path("percentile");
    return new FioReport(ops, read.path("io_bytes").asLong(), read.path("runtime").asDouble() / 1e3, read.path("iops").asDouble(),
        read.path("bw_bytes").asDouble(), percentile(pct, "50.000000"), percentile(pct, "99.000000"), percentile(pct, "99.900000"));
  }

  private static double percentile(JsonNode percentiles, String which) throws IOException {
    JsonNode v = percentiles.get(which);
    if (v == null || !v.isNumber()) {
      throw new IOException("fio's report has no " + which + " percentile of its read latency");
    }
    return v.asDouble() / 1e3;
  }

  /** The job as one of the runner's records: {@code config} is local, fuse-cached or fuse-uncached. */
  Result toResult(String workload, String config, int ioSize, long fileBytes, String note) {
    return new Result(workload, config, 1, 1, ioSize, fileBytes, ops, bytes, seconds, bytesPerSec / 1e6, opsPerSec, p50Us, p99Us,
        p999Us, true, Map.of(), note);
  }
}
