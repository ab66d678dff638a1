package org.cachedafs.bench;

import java.util.List;
import java.util.Map;

/**
 * A whole run, as written to {@code results.json}. docs/results-schema.json is its schema.
 *
 * @param schema the schema's name and version
 * @param started when the run began, ISO-8601 UTC
 * @param seconds how long it took
 * @param command the arguments it was started with
 * @param server the server it measured: embedded, or its URI
 * @param machine the machine
 * @param settings the sizes and times the run used
 * @param reference the physical reference measured in this run
 * @param hitPath the hit path against the kernel and the floor
 * @param pingPong the recall ping-pong, or null
 * @param results one record per (workload, configuration), sweeps included
 * @param ratios the target ratios, measured in this run
 * @param skipped what was not measured, and why
 */
record RunRecord(String schema, String started, double seconds, List<String> command, String server, Machine machine,
    Map<String, Object> settings, PhysicalReference reference, List<HitProbe> hitPath, PingPong pingPong,
    List<Result> results, Map<String, Ratio> ratios, List<String> skipped) {
  static final String SCHEMA = "cachedafs-bench/2";

  RunRecord withRatios(Map<String, Ratio> r) {
    return new RunRecord(schema, started, seconds, command, server, machine, settings, reference, hitPath, pingPong, results, r,
        skipped);
  }
}
