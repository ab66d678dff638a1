package org.cachedafs.bench;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Writes a run into its results directory: {@code results.json} (the whole run, docs/results-schema.json),
 * {@code results.csv} (one row per workload and configuration), {@code charts/*.png}, {@code report.html}
 * (self-contained: the charts are inlined) and {@code results.md} (for docs/results.md).
 */
final class Reports {
  static final String[] CSV_HEADER = {"workload", "config", "clients", "repeat", "io_size", "file_bytes", "ops", "bytes", "seconds",
      "mb_per_sec", "ops_per_sec", "p50_us", "p99_us", "p999_us", "verified", "cache_hits", "cache_misses", "note"};

  private Reports() {}

  static void writeAll(RunRecord run, Path dir) throws IOException {
    Files.createDirectories(dir);
    Json.mapper().writeValue(dir.resolve("results.json").toFile(), run);
    writeCsv(run, dir.resolve("results.csv"));
    Map<String, String> charts = Charts.write(run, dir.resolve("charts"));
    Files.writeString(dir.resolve("report.html"), html(run, dir.resolve("charts"), charts), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("results.md"), markdown(run, charts, "charts/"), StandardCharsets.UTF_8);
  }

  static void writeCsv(RunRecord run, Path file) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        CSVPrinter csv = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(CSV_HEADER).build())) {
      for (Result r : run.results()) {
        csv.printRecord(r.workload(), r.config(), r.clients(), r.repeat(), r.ioSize(), r.fileBytes(), r.ops(), r.bytes(), r.seconds(),
            r.mbPerSec(), r.opsPerSec(), r.p50Us(), r.p99Us(), r.p999Us(), r.verified(), r.cache().get("hits"),
            r.cache().get("misses"), r.note());
      }
    }
  }

  /** The console's report: the tables, then the ratios. */
  static String console(RunRecord run) {
    StringBuilder b = new StringBuilder();
    b.append('\n').append(Tables.results(run).console());
    if (!run.hitPath().isEmpty()) {
      b.append("\nhit path (4 KiB reads from memory, one thread)\n").append(Tables.hitPath(run).console());
    }
    b.append('\n').append(Tables.reference(run).console());
    b.append('\n').append(Tables.ratios(run).console());
    for (String s : run.skipped()) {
      b.append("not measured: ").append(s).append('\n');
    }
    return b.toString();
  }

  static String markdown(RunRecord run, Map<String, String> charts, String imagePrefix) {
    StringBuilder b = new StringBuilder();
    Machine m = run.machine();
    b.append("Run started ").append(run.started()).append(", took ").append(String.format(Locale.ROOT, "%.0f", run.seconds()))
        .append(" s, against the ").append(run.server()).append(" server.\n\n");
    b.append("Machine: ").append(m.describe()).append(".\n\n");
    b.append("Command: `").append(command(run)).append("`\n\n");
    b.append("Each measured cell ran ").append(repeats(run)).append(" times, the configurations round-robin; a figure is the "
        + "median, with the smallest and largest run in brackets.\n\n");
    b.append("### Ratios\n\n").append(Tables.ratios(run).markdown());
    b.append("\n### Results\n\n").append(Tables.results(run).markdown());
    if (!run.hitPath().isEmpty()) {
      b.append("\n### Hit path\n\n").append(Tables.hitPath(run).markdown());
    }
    b.append("\n### Reference\n\n").append(Tables.reference(run).markdown());
    if (!run.skipped().isEmpty()) {
      b.append("\n### Not measured\n\n");
      run.skipped().forEach(s -> b.append("- ").append(s).append('\n'));
    }
    b.append("\n### Charts\n\n");
    charts.forEach((file, title) -> b.append("![").append(title).append("](").append(imagePrefix).append(file).append(")\n\n"));
    return b.toString();
  }

  /** The command as it was typed, give or take the shell's quoting. */
  static String command(RunRecord run) {
    return ("java -jar bench/target/dafs-bench.jar " + String.join(" ", run.command())).strip();
  }

  static int repeats(RunRecord run) {
    return run.results().stream().mapToInt(r -> Math.max(1, r.repeat())).max().orElse(1);
  }

  static String html(RunRecord run, Path chartDir, Map<String, String> charts) throws IOException {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cachedafs benchmark ").append(Table.escape(run.started()))
        .append("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;"
            + "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}th{background:#eee}"
            + "td{text-align:left;vertical-align:top}td.n{text-align:right;white-space:nowrap}td.met{background:#d4f4dd;color:#11602a}"
            + "td.missed{background:#fbd9d3;color:#8a1c0c;font-weight:bold}"
            + "img{max-width:100%;border:1px solid #ddd;margin:1em 0}</style></head><body>\n");
    b.append("<h1>cachedafs benchmark</h1>\n<p>").append(Table.escape(run.started())).append(", ")
        .append(String.format(Locale.ROOT, "%.0f", run.seconds())).append(" s, server: ").append(Table.escape(run.server()))
        .append("</p>\n<p>Machine: ").append(Table.escape(run.machine().describe())).append(".</p>\n<p>Command: <code>")
        .append(Table.escape(command(run))).append("</code></p>\n<p>Each measured cell ran ").append(repeats(run))
        .append(" times, the configurations round-robin; a figure is the median, with the smallest and largest run in "
            + "brackets.</p>\n");
    b.append("<h2>Ratios</h2>\n").append(Tables.ratios(run).html());
    b.append("<h2>Results</h2>\n").append(Tables.results(run).html());
    if (!run.hitPath().isEmpty()) {
      b.append("<h2>Hit path</h2>\n").append(Tables.hitPath(run).html());
    }
    b.append("<h2>Reference</h2>\n").append(Tables.reference(run).html());
    if (!run.skipped().isEmpty()) {
      b.append("<h2>Not measured</h2>\n<ul>");
      run.skipped().forEach(s -> b.append("<li>").append(Table.escape(s)).append("</li>"));
      b.append("</ul>\n");
    }
    b.append("<h2>Charts</h2>\n");
    for (Map.Entry<String, String> e : charts.entrySet()) {
      String data = Base64.getEncoder().encodeToString(Files.readAllBytes(chartDir.resolve(e.getKey())));
      b.append("<figure><img alt=\"").append(Table.escape(e.getValue())).append("\" src=\"data:image/png;base64,").append(data)
          .append("\"><figcaption>").append(Table.escape(e.getValue())).append("</figcaption></figure>\n");
    }
    return b.append("</body></html>\n").toString();
  }
}
