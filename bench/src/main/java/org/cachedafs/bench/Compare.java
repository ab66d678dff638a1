package org.cachedafs.bench;

import com.fasterxml.jackson.databind.DeserializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code dafs-bench compare A B}: two runs' figures and ratios side by side, with the change from A
 * to B in percent. A change counts as better or worse only where the two runs' ranges over their
 * repetitions do not overlap; otherwise the repetitions cannot tell it from noise.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Shows two runs' figures and ratios side by side, with the change from A to B in percent.")
final class Compare implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "A", description = "The first run's results.json (or its results directory).")
  Path a;

  @Parameters(index = "1", paramLabel = "B", description = "The second run's results.json (or its results directory).")
  Path b;

  @Option(names = "--markdown", description = "Print Markdown tables instead of aligned text.")
  boolean markdown;

  @ParentCommand
  BenchMain parent;

  @Override
  public Integer call() throws IOException {
    RunRecord ra = read(a);
    RunRecord rb = read(b);
    StringBuilder out = new StringBuilder();
    out.append("A: ").append(describe(a, ra)).append('\n').append("B: ").append(describe(b, rb)).append("\n\n");
    out.append(render(ratios(ra, rb))).append('\n').append(render(figures(ra, rb)));
    parent.out().print(out);
    return 0;
  }

  /** Reads a results.json of this schema or an earlier one (whose fields are a subset). */
  static RunRecord read(Path p) throws IOException {
    Path file = java.nio.file.Files.isDirectory(p) ? p.resolve("results.json") : p;
    try {
      return Json.mapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(file.toFile(), RunRecord.class);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IOException(file + " is not a dafs-bench results.json: " + e.getOriginalMessage(), e);
    }
  }

  private static String describe(Path p, RunRecord r) {
    return p + " (" + r.started() + ", " + Tables.num(r.seconds()) + " s, repeat " + repeatOf(r) + ": "
        + String.join(" ", r.command()) + ")";
  }

  private static int repeatOf(RunRecord r) {
    return r.results().stream().mapToInt(x -> Math.max(1, x.repeat())).max().orElse(1);
  }

  static Table ratios(RunRecord a, RunRecord b) {
    Table t = new Table("ratio", "A", "B", "change", "goal", "B against A");
    Set<String> keys = new LinkedHashSet<>(a.ratios().keySet());
    keys.addAll(b.ratios().keySet());
    for (String k : keys) {
      Ratio x = a.ratios().get(k);
      Ratio y = b.ratios().get(k);
      Ratio either = y != null ? y : x; // B's goal, where the goal changed between the runs
      String goal = either.goal() == null ? "-" : (either.atLeast() ? "≥ " : "≤ ") + Tables.num(either.goal());
      t.row(k, Tables.ratio(x), Tables.ratio(y), change(value(x), value(y)), goal,
          verdict(spread(x), spread(y), either.goal() == null || either.atLeast()));
    }
    return t;
  }

  static Table figures(RunRecord a, RunRecord b) {
    Table t = new Table("figure", "A", "B", "change", "B against A");
    Map<String, Spread[]> rows = new LinkedHashMap<>();
    Map<String, Boolean> higherBetter = new LinkedHashMap<>();
    collect(a, 0, rows, higherBetter);
    collect(b, 1, rows, higherBetter);
    rows.forEach((name, v) -> t.row(name, Tables.spread(v[0]), Tables.spread(v[1]),
        change(v[0] == null ? null : v[0].median(), v[1] == null ? null : v[1].median()),
        verdict(v[0], v[1], higherBetter.get(name))));
    return t;
  }

  /** Every figure of a run by name, into column {@code i} of {@code rows}. */
  private static void collect(RunRecord r, int i, Map<String, Spread[]> rows, Map<String, Boolean> higherBetter) {
    java.util.function.BiConsumer<String, Spread> put = (name, v) -> rows.computeIfAbsent(name, k -> new Spread[2])[i] = v;
    PhysicalReference p = r.reference();
    if (p != null) {
      put.accept("reference: memory copy 1 MiB, GB/s", Spread.of(p.memcpySmallGBps()));
      put.accept("reference: memory copy 64 MiB, GB/s", Spread.of(p.memcpyLargeGBps()));
      put.accept("reference: raw transport, MB/s", Spread.of(p.transportGBps() * 1000));
      put.accept("reference: 64 B round trip, µs", Spread.of(p.roundTripMicros()));
      higherBetter.put("reference: 64 B round trip, µs", false);
    }
    for (HitProbe h : r.hitPath()) {
      String set = "hit path " + (h.setBytes() >> 20) + " MiB: ";
      put.accept(set + "kernel ns", Spread.of(h.kernelNs()));
      put.accept(set + "cached ns", Spread.of(h.cachedNs()));
      higherBetter.put(set + "kernel ns", false);
      higherBetter.put(set + "cached ns", false);
    }
    for (Cell c : Cell.of(r.results())) {
      boolean bytes = c.mbPerSec().median() > 0 && (c.workload().startsWith("seq-") || c.workload().startsWith("sweep-readahead"));
      put.accept(c.key() + ", " + (bytes ? "MB/s" : "ops/s"), bytes ? c.mbPerSec() : c.opsPerSec());
      if (!bytes) {
        put.accept(c.key() + ", p50 µs", c.p50Us());
        higherBetter.put(c.key() + ", p50 µs", false);
      }
    }
    if (r.pingPong() != null) {
      put.accept("recall ping-pong: median turn, ms", Spread.of(r.pingPong().medianMs()));
      higherBetter.put("recall ping-pong: median turn, ms", false);
    }
  }

  private static Double value(Ratio r) {
    return r == null ? null : r.value();
  }

  private static Spread spread(Ratio r) {
    if (r == null || r.value() == null) {
      return null;
    }
    // A run of the first schema has no range: its one value stands for it.
    return new Spread(r.value(), r.min() == null ? r.value() : r.min(), r.max() == null ? r.value() : r.max(),
        Math.max(1, r.repeats()));
  }

  static String change(Double a, Double b) {
    if (a == null || b == null || !(a != 0) || a.isNaN() || b.isNaN()) {
      return "-";
    }
    return String.format(Locale.ROOT, "%+.1f%%", (b - a) / Math.abs(a) * 100);
  }

  /** Better or worse only where the two ranges do not overlap. */
  static String verdict(Spread a, Spread b, Boolean higherBetter) {
    if (a == null || b == null) {
      return a == null && b == null ? "-" : a == null ? "only in B" : "only in A";
    }
    if (a.count() < 2 || b.count() < 2) {
      return "-"; // measured once: nothing tells a change from noise
    }
    boolean up = b.min() > a.max();
    boolean down = b.max() < a.min();
    if (!up && !down) {
      return "within the spread";
    }
    boolean hb = higherBetter == null || higherBetter;
    return up == hb ? "better" : "worse";
  }

  private String render(Table t) {
    return markdown ? t.markdown() : t.console();
  }
}
