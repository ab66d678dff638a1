package org.cachedafs.bench;

import java.awt.Color;
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
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.knowm.xchart.style.Styler;

/**
 * The run's charts, as PNG files through XChart; returns each chart's file name and caption. Each
 * configuration has one colour in every chart, so that a reader learns it once.
 */
final class Charts {
  private static final int WIDTH = 1000;
  private static final int HEIGHT = 520;
  /** The configurations' colours (Okabe-Ito, told apart by colour-blind readers too), and the hit path's by kinship. */
  static final Map<String, Color> COLOURS = Map.ofEntries(
      Map.entry("local", new Color(0x00, 0x72, 0xB2)),
      Map.entry("uncached", new Color(0xE6, 0x9F, 0x00)),
      Map.entry("cached", new Color(0x00, 0x9E, 0x73)),
      Map.entry("nio", new Color(0xCC, 0x79, 0xA7)),
      Map.entry("uncached-shm", new Color(0xF0, 0xE4, 0x42)),
      Map.entry("cached-shm", new Color(0x56, 0xB4, 0xE9)),
      Map.entry("nfs", new Color(0xD5, 0x5E, 0x00)),
      // Okabe-Ito's eight are taken (black is the goal line): ODAFS gets two that no other is near.
      Map.entry("odafs", new Color(0x44, 0x44, 0x44)),
      Map.entry("odafs-shm", new Color(0x8C, 0x56, 0x4B)),
      // The FUSE mount under fio: darker kin of cached and uncached.
      Map.entry("fuse-cached", new Color(0x00, 0x5E, 0x45)),
      Map.entry("fuse-uncached", new Color(0x9A, 0x6A, 0x00)),
      Map.entry("kernel FileChannel.read", new Color(0x00, 0x72, 0xB2)),
      Map.entry("cached facade pread", new Color(0x00, 0x9E, 0x73)),
      Map.entry("floor: map lookup + copy", new Color(0x99, 0x99, 0x99)),
      Map.entry("met", new Color(0x2E, 0x9E, 0x4F)),
      Map.entry("missed", new Color(0xC8, 0x3A, 0x22)),
      Map.entry("goal", Color.BLACK));

  private Charts() {}

  /** Writes the charts into {@code dir}; returns file name → caption, in order. */
  static Map<String, String> write(RunRecord run, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Files.createDirectories(dir);
    Map<String, String> out = new LinkedHashMap<>();
    Predicate<Cell> sweep = r -> r.workload().startsWith("sweep-");
    // fio's sequential job on the FUSE mount (FuseProbe) sits with the runner's own sequential workloads.
    Predicate<Cell> seq = r -> r.workload().startsWith("seq-") || r.workload().equals(FuseProbe.SEQ);
    chart(out, dir, "throughput-seq.png", "Sequential 1 MiB reads and writes, MB/s, median of the runs (higher is better)",
        "MB/s", false, Tables.pivot(run, seq, Cell::mbPerSec));
    chart(out, dir, "ops-random.png", "Random 4 KiB operations and database transactions per second, log scale (higher is better)",
        "ops/s", true, Tables.pivot(run, seq.negate().and(sweep.negate()), Cell::opsPerSec));
    chart(out, dir, "latency-p50.png", "Median latency of one operation, µs, log scale (lower is better)", "µs", true,
        Tables.pivot(run, seq.negate().and(sweep.negate()), Cell::p50Us));
    Map<String, Map<String, Double>> hit = new LinkedHashMap<>();
    for (HitProbe h : run.hitPath()) {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("kernel FileChannel.read", h.kernelNs());
      m.put("cached facade pread", h.cachedNs());
      m.put("floor: map lookup + copy", h.floorNs());
      hit.put((h.setBytes() >> 20) + " MiB set", m);
    }
    chart(out, dir, "hit-path.png", "One 4 KiB read served from memory, ns (lower is better)", "ns", false, hit);
    sweep(out, dir, run, "sweep-block.png", "Sweep: block size, Zipf 4 KiB reads through the cache, ops/s (log axes)",
        "block size, KiB", "sweep-block-", "k");
    sweep(out, dir, run, "sweep-cache.png", "Sweep: cache size, Zipf 4 KiB reads through the cache, ops/s (log axes)",
        "cache size, MiB", "sweep-cache-", "m");
    chart(out, dir, "sweep-readahead.png", "Sweep: read-ahead, cold sequential reads through the cache, MB/s", "MB/s", false,
        Tables.pivot(run, r -> r.workload().startsWith("sweep-readahead-"), Cell::mbPerSec));
    ratios(out, dir, run);
    return out;
  }

  /**
   * Each ratio against its goal, as measured / goal for a floor and goal / measured for a ceiling, so
   * that 1 or more means met whichever way the goal points; a line marks 1.
   */
  private static void ratios(Map<String, String> out, Path dir, RunRecord run) throws IOException {
    List<String> names = new ArrayList<>();
    List<Double> against = new ArrayList<>();
    for (Map.Entry<String, Ratio> e : run.ratios().entrySet()) {
      Ratio r = e.getValue();
      if (r.value() != null && r.goal() != null && r.value() > 0) {
        names.add(e.getKey());
        against.add(r.atLeast() ? r.value() / r.goal() : r.goal() / r.value());
      }
    }
    if (names.isEmpty()) {
      return;
    }
    String title = "Each ratio's median against its goal: at or above the line at 1, the goal is met (log scale)";
    CategoryChart c = categoryChart(title, "measured / goal", true, names.size());
    double least = Math.min(1, against.stream().mapToDouble(Double::doubleValue).min().orElse(1));
    double axisMin = Math.pow(10, Math.floor(Math.log10(least)));
    c.getStyler().setYAxisMin(axisMin);
    c.getStyler().setOverlapped(true); // the line runs through the bars' centres
    // Met and missed as two series in their colours; each ratio's bar is in one, and far below the axis
    // (clipped) in the other, since a category chart needs a value in every group.
    for (boolean met : new boolean[] {true, false}) {
      List<Double> y = against.stream().map(v -> (v >= 1) == met ? v : axisMin * 1e-6).toList();
      if (y.stream().anyMatch(v -> v > axisMin * 1e-6)) {
        c.addSeries(met ? "met" : "missed", names, y).setFillColor(COLOURS.get(met ? "met" : "missed"));
      }
    }
    CategorySeries line = c.addSeries("goal", names, names.stream().map(n -> 1.0).toList());
    line.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
    line.setLineColor(COLOURS.get("goal"));
    line.setMarker(SeriesMarkers.NONE);
    save(out, dir, c, "ratios.png", title);
  }

  /** A sweep as a line over its sizes, both axes logarithmic: the sizes grow by factors. */
  private static void sweep(Map<String, String> out, Path dir, RunRecord run, String file, String title, String xTitle,
      String prefix, String unit) throws IOException {
    List<Double> x = new ArrayList<>();
    List<Double> y = new ArrayList<>();
    for (Cell c : Cell.of(run.results())) {
      if (c.workload().startsWith(prefix) && c.workload().endsWith(unit) && c.opsPerSec().median() > 0) {
        x.add(Double.parseDouble(c.workload().substring(prefix.length(), c.workload().length() - unit.length())));
        y.add(c.opsPerSec().median());
      }
    }
    if (x.isEmpty()) {
      return;
    }
    XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle("ops/s").build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    c.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true);
    XYSeries s = c.addSeries("cached", x, y);
    s.setLineColor(COLOURS.get("cached"));
    s.setMarkerColor(COLOURS.get("cached"));
    s.setMarker(SeriesMarkers.CIRCLE);
    save(out, dir, c, file, title);
  }

  private static CategoryChart categoryChart(String title, String yTitle, boolean log, int groups) {
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yTitle).build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
    c.getStyler().setXAxisLabelRotation(groups > 4 ? 20 : 0);
    c.getStyler().setYAxisLogarithmic(log);
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    return c;
  }

  private static void save(Map<String, String> out, Path dir, org.knowm.xchart.internal.chartpart.Chart<?, ?> c, String file,
      String title) throws IOException {
    BitmapEncoder.saveBitmap(c, dir.resolve(file).toString(), BitmapEncoder.BitmapFormat.PNG);
    out.put(file, title);
  }

  /** A bar chart: one group per key of {@code data}, one bar per configuration. Skipped when empty. */
  private static void chart(Map<String, String> out, Path dir, String file, String title, String yTitle, boolean log,
      Map<String, Map<String, Double>> data) throws IOException {
    if (data.isEmpty()) {
      return;
    }
    CategoryChart c = categoryChart(title, yTitle, log, data.size());
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
        CategorySeries cs = c.addSeries(s, groups, y);
        Color colour = COLOURS.get(s);
        if (colour != null) {
          cs.setFillColor(colour);
        }
      }
    }
    if (c.getSeriesMap().isEmpty()) {
      return;
    }
    save(out, dir, c, file, title);
  }
}
