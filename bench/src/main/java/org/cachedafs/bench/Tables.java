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

  /** A median with its range over the repetitions: "2.10 (1.95-2.31)"; the median alone when measured once. */
  static String spread(Spread s) {
    if (s == null) {
      return "-";
    }
    if (s.count() < 2 || s.min() == s.max()) {
      return num(s.median());
    }
    return num(s.median()) + " (" + num(s.min()) + "–" + num(s.max()) + ")";
  }

  static String ratio(Ratio r) {
    if (r == null || r.value() == null) {
      return "-";
    }
    return r.min() == null ? num(r.value()) : spread(new Spread(r.value(), r.min(), r.max(), r.repeats()));
  }

  static Table results(RunRecord run) {
    Table t = new Table("workload", "config", "clients", "runs", "MB/s", "ops/s", "p50 µs", "p99 µs", "p99.9 µs", "hits",
        "verified");
    for (Cell c : Cell.of(run.results())) {
      String hitRate = Double.isNaN(c.hitRate()) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * c.hitRate());
      t.row(c.workload(), c.config(), c.clients(), c.mbPerSec().count(), c.mbPerSec().median() > 0 ? spread(c.mbPerSec()) : "-",
          spread(c.opsPerSec()), spread(c.p50Us()), num(c.p99Us().median()), num(c.p999Us().median()), hitRate,
          c.verified() ? "yes" : "NO");
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
    Table t = new Table("ratio", "median (min–max)", "goal", "met", "what");
    for (Map.Entry<String, Ratio> e : run.ratios().entrySet()) {
      Ratio r = e.getValue();
      String goal = r.goal() == null ? "-" : (r.atLeast() ? "≥ " : "≤ ") + num(r.goal());
      String met = r.met() == null ? (r.value() == null ? "not measured" : "-") : r.met() ? "yes" : "NO";
      String what = r.value() == null ? r.what() + " — " + r.why()
          : r.what() + (r.repeats() > 1 ? ", " + r.repeats() + " " + (r.what().contains("rounds") ? "rounds" : "runs") : "");
      t.row(e.getKey(), ratio(r), goal, met, what);
    }
    return t.verdicts("met");
  }

  /** The cells by workload, for the charts: workload → config → the median of {@code value}. */
  static Map<String, Map<String, Double>> pivot(RunRecord run, java.util.function.Predicate<Cell> which,
      java.util.function.Function<Cell, Spread> value) {
    Map<String, Map<String, Double>> m = new LinkedHashMap<>();
    for (Cell c : Cell.of(run.results())) {
      if (which.test(c)) {
        m.computeIfAbsent(c.workload(), k -> new LinkedHashMap<>()).put(c.config(), value.apply(c).median());
      }
    }
    return m;
  }
}
