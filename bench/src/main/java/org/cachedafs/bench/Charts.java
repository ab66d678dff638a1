package org.cachedafs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/** The run's charts, as PNG files through XChart; returns each chart's file name and caption. */
final class Charts {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 520;

  private Charts() {}

  /** Writes the charts into {@code dir}; returns file name → caption, in order. */
  static Map<String, String> write(RunRecord run, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    Map<String, String> out = new LinkedHashMap<>();
    Predicate<Result> sweep = r -> r.workload().startsWith("sweep-");
    chart(out, dir, "throughput-seq.png", "Sequential 1 MiB reads and writes, MB/s (higher is better)", "MB/s", false,
        Tables.pivot(run, r -> r.workload().startsWith("seq-"), Result::mbPerSec));
    chart(out, dir, "ops-random.png", "Random 4 KiB operations and database transactions per second, log scale (higher is better)",
        "ops/s", true, Tables.pivot(run, r -> !r.workload().startsWith("seq-") && sweep.negate().test(r), Result::opsPerSec));
    chart(out, dir, "latency-p50.png", "Median latency of one operation, µs, log scale (lower is better)", "µs", true,
        Tables.pivot(run, r -> !r.workload().startsWith("seq-") && sweep.negate().test(r), Result::p50Us));
    Map<String, Map<String, Double>> hit = new LinkedHashMap<>();
    for (HitProbe h : run.hitPath()) {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("kernel FileChannel.read", h.kernelNs());
      m.put("cached facade pread", h.cachedNs());
      m.put("floor: map lookup + copy", h.floorNs());
      hit.put((h.setBytes() >> 20) + " MiB set", m);
    }
    chart(out, dir, "hit-path.png", "One 4 KiB read served from memory, ns (lower is better)", "ns", false, hit);
    chart(out, dir, "sweep-block.png", "Sweep: block size, Zipf 4 KiB reads through the cache, ops/s", "ops/s", false,
        Tables.pivot(run, r -> r.workload().startsWith("sweep-block-"), Result::opsPerSec));
    chart(out, dir, "sweep-cache.png", "Sweep: cache size, Zipf 4 KiB reads through the cache, ops/s", "ops/s", false,
        Tables.pivot(run, r -> r.workload().startsWith("sweep-cache-"), Result::opsPerSec));
    chart(out, dir, "sweep-readahead.png", "Sweep: read-ahead, cold sequential reads through the cache, MB/s", "MB/s", false,
        Tables.pivot(run, r -> r.workload().startsWith("sweep-readahead-"), Result::mbPerSec));
    Map<String, Map<String, Double>> goals = new LinkedHashMap<>();
    for (Map.Entry<String, Ratio> e : run.ratios().entrySet()) {
      Ratio r = e.getValue();
      if (r.value() != null && r.goal() != null && r.value() > 0) {
        goals.put(e.getKey(), Map.of("measured against goal", r.atLeast() ? r.value() / r.goal() : r.goal() / r.value()));
      }
    }
    chart(out, dir, "ratios.png", "Each ratio against its goal: 1 or more means the goal is met, log scale", "measured / goal", true,
        goals);
    return out;
  }

  /** A bar chart: one group per key of {@code data}, one bar per configuration. Skipped when empty. */
  private static void chart(Map<String, String> out, Path dir, String file, String title, String yTitle, boolean log,
      Map<String, Map<String, Double>> data) throws IOException {
    if (data.isEmpty()) {
      return;
    }
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yTitle).build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
    c.getStyler().setXAxisLabelRotation(data.size() > 4 ? 20 : 0);
    c.getStyler().setYAxisLogarithmic(log);
    c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    Set<String> series = new LinkedHashSet<>();
    data.values().forEach(m -> series.addAll(m.keySet()));
    List<String> groups = new ArrayList<>(data.keySet());
    double least = data.values().stream().flatMap(m -> m.values().stream()).filter(v -> v != null && v > 0)
        .mapToDouble(Double::doubleValue).min().orElse(1);
    double axisMin = Math.pow(10, Math.floor(Math.log10(least)));
    if (log) {
      c.getStyler().setYAxisMin(axisMin);
    }
    for (String s : series) {
      List<Double> y = new ArrayList<>();
      for (String g : groups) {
        Double v = data.get(g).get(s);
        // A bar a configuration did not run must not be drawn. XChart's category charts need a value
        // in every group and a log axis refuses zero, so it gets one far below the axis, where it is clipped.
        y.add(v != null && v > 0 ? v : log ? axisMin * 1e-6 : 0.0);
      }
      if (y.stream().anyMatch(v -> v > (log ? axisMin * 1e-6 : 0))) {
        c.addSeries(s, groups, y);
      }
    }
    if (c.getSeriesMap().isEmpty()) {
      return;
    }
    BitmapEncoder.saveBitmap(c, dir.resolve(file).toString(), BitmapEncoder.BitmapFormat.PNG);
    out.put(file, title);
  }
}
