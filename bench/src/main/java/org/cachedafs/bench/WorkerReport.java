package org.cachedafs.bench;

import java.util.List;

/**
 * What a client process reports back, as the last line of its standard output.
 *
 * @param results one per workload run
 * @param turnMicros ping-pong: how long each of this player's turns waited for the file
 * @param recalls ping-pong: recalls this player's cache answered
 * @param error why the worker failed, or null
 */
record WorkerReport(List<Result> results, List<Double> turnMicros, long recalls, String error) {}
