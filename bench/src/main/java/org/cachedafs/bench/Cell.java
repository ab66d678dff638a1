package org.cachedafs.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One (workload, configuration, clients) cell over its repetitions: what the tables, the charts and
 * {@code compare} show, while {@code results.json} keeps every repetition.
 *
 * @param workload the workload's name
 * @param config the configuration's label
 * @param clients client processes that ran it at once
 * @param mbPerSec MB/s over the repetitions
 * @param opsPerSec operations per second over the repetitions
 * @param p50Us median latency over the repetitions
 * @param p99Us 99th percentile latency over the repetitions
 * @param p999Us 99.9th percentile latency over the repetitions
 * @param hitRate the cache's hits / (hits + misses) over all repetitions, or NaN without a cache
 * @param verified whether every repetition checked every byte
 */
record Cell(String workload, String config, int clients, Spread mbPerSec, Spread opsPerSec, Spread p50Us, Spread p99Us,
    Spread p999Us, double hitRate, boolean verified) {

  /** The name {@code compare} matches cells of two runs by. */
  String key() {
    return workload + " / " + config + (clients > 1 ? " / " + clients + " clients" : "");
  }

  /** The results grouped by cell, in the order each cell first appears. */
  static List<Cell> of(List<Result> results) {
    Map<String, List<Result>> groups = new LinkedHashMap<>();
    for (Result r : results) {
      groups.computeIfAbsent(r.workload() + "\0" + r.config() + "\0" + r.clients(), k -> new ArrayList<>()).add(r);
    }
    List<Cell> cells = new ArrayList<>();
    for (List<Result> g : groups.values()) {
      Result first = g.get(0);
      long hits = g.stream().mapToLong(r -> r.cache().getOrDefault("hits", 0L)).sum();
      long misses = g.stream().mapToLong(r -> r.cache().getOrDefault("misses", 0L)).sum();
      boolean cached = g.stream().anyMatch(r -> r.cache().containsKey("hits"));
      cells.add(new Cell(first.workload(), first.config(), first.clients(), spread(g, Result::mbPerSec),
          spread(g, Result::opsPerSec), spread(g, Result::p50Us), spread(g, Result::p99Us), spread(g, Result::p999Us),
          cached && hits + misses > 0 ? hits / (double) (hits + misses) : Double.NaN, g.stream().allMatch(Result::verified)));
    }
    return cells;
  }

  private static Spread spread(List<Result> g, java.util.function.ToDoubleFunction<Result> f) {
    return Spread.of(g.stream().map(r -> f.applyAsDouble(r)).toList());
  }
}
