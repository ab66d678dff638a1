package org.cachedafs.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The tables a run is shown in: the same ones on the console, in the HTML report and in Markdown. */
final class Tables {
  private Tables() {}

  static String num(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return "-";
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  static Table results(RunRecord run) {
    Table t = new Table("workload", "config", "clients", "MB/s", "ops/s", "p50 µs", "p99 µs", "p99.9 µs", "hits", "verified");
    for (Result r : run.results()) {
      Long hits = r.cache().get("hits");
      Long misses = r.cache().get("misses");
      String hitRate = hits == null || misses == null || hits + misses == 0 ? "-"
          : String.format(Locale.ROOT, "%.1f%%", 100.0 * hits / (hits + misses));
      t.row(r.workload(), r.config(), r.clients(), r.mbPerSec() > 0 ? num(r.mbPerSec()) : "-", num(r.opsPerSec()), num(r.p50Us()),
          num(r.p99Us()), num(r.p999Us()), hitRate, r.verified() ? "yes" : "NO");
    }
    return t;
  }

  static Table hitPath(RunRecord run) {
    Table t = new Table("set", "kernel ns", "cached ns", "floor ns", "kernel / cached", "cached / floor", "hits");
    for (HitProbe h : run.hitPath()) {
      t.row((h.setBytes() >> 20) + " MiB", num(h.kernelNs()), num(h.cachedNs()), num(h.floorNs()),
          num(h.kernelNs() / h.cachedNs()), num(h.cachedNs() / h.floorNs()),
          String.format(Locale.ROOT, "%.2f%%", 100 * h.hitFraction()));
    }
    return t;
  }

  static Table reference(RunRecord run) {
    Table t = new Table("physical reference", "value");
    PhysicalReference p = run.reference();
    if (p != null) {
      t.row("memory copy, 1 MiB buffers", num(p.memcpySmallGBps()) + " GB/s");
      t.row("memory copy, 64 MiB buffers", num(p.memcpyLargeGBps()) + " GB/s");
      t.row("raw transport, one-sided 1 MiB writes over loopback tcp", num(p.transportGBps() * 1000) + " MB/s");
      t.row("64 B round trip over loopback tcp (median)", num(p.roundTripMicros()) + " µs");
    }
    PingPong pp = run.pingPong();
    if (pp != null) {
      t.row("recall ping-pong: turns, median / p99 wait", pp.turns() + " turns, " + num(pp.medianMs()) + " / " + num(pp.p99Ms())
          + " ms, " + pp.recalls() + " recalls");
    }
    return t;
  }

  static Table ratios(RunRecord run) {
    Table t = new Table("ratio", "measured", "goal", "met", "what");
    for (Map.Entry<String, Ratio> e : run.ratios().entrySet()) {
      Ratio r = e.getValue();
      String goal = r.goal() == null ? "-" : (r.atLeast() ? "≥ " : "≤ ") + num(r.goal());
      String met = r.met() == null ? (r.value() == null ? "not measured" : "-") : r.met() ? "yes" : "NO";
      t.row(e.getKey(), r.value() == null ? "-" : num(r.value()), goal, met, r.value() == null ? r.what() + " — " + r.why() : r.what());
    }
    return t;
  }

  /** The results by workload, for the charts: workload → config → value. */
  static Map<String, Map<String, Double>> pivot(RunRecord run, java.util.function.Predicate<Result> which,
      java.util.function.ToDoubleFunction<Result> value) {
    Map<String, Map<String, Double>> m = new LinkedHashMap<>();
    for (Result r : run.results()) {
      if (which.test(r)) {
        m.computeIfAbsent(r.workload(), k -> new LinkedHashMap<>()).put(r.config(), value.applyAsDouble(r));
      }
    }
    return m;
  }
}
