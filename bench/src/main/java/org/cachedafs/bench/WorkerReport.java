package org.cachedafs.bench;

import java.util.List;

/**
 * What a client process reports back, as the last line of its standard output.
 *
 * @param results one per workload run
 * @param turnMicros ping-pong: how long each of this player's turns waited for the file
 * @param recalls ping-pong: recalls this player's cache answered
 * @param firstTurnMicros ping-pong: when this player's first turn began, microseconds since the epoch
 *     (the wall clock, the one clock two processes share), 0 when it took none
 * @param lastTurnMicros ping-pong: when its last turn ended, likewise
 * @param error why the worker failed, or null
 */
record WorkerReport(List<Result> results, List<Double> turnMicros, long recalls, long firstTurnMicros, long lastTurnMicros,
    String error) {
  static WorkerReport failed(Throwable e) {
    return new WorkerReport(List.of(), List.of(), 0, 0, 0, String.valueOf(e));
  }

  static WorkerReport of(List<Result> results) {
    return new WorkerReport(results, List.of(), 0, 0, 0, null);
  }
}
