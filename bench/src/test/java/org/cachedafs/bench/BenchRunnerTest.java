package org.cachedafs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner's default suite end to end on small sizes: an embedded server, every in-process
 * configuration, client processes, the database and the sweeps; its JSON against the documented
 * schema, and every other output present.
 */
class BenchRunnerTest {
  static final Path SCHEMA = Path.of("..", "docs", "results-schema.json");

  /** The standard suite's options, shrunk so that the whole run takes seconds. */
  static String[] small(Path work, Path results, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("--no-progress", "--work-dir", work.toString(), "--results",
        results.toString(), "--large-mib", "16", "--fits-mib", "8", "--write-mib", "4", "--cache-mib", "16", "--hot-mib", "1",
        "--hit-large-mib", "16", "--hit-ops", "20000", "--transport-mib", "64", "--seconds", "0.1", "--seq-seconds", "2",
        "--db-seconds", "0.3", "--pingpong-turns", "5", "--clients", "2", "--sweep-block-kib", "16,64", "--sweep-cache-mib",
        "4,16"));
    args.addAll(List.of(more));
    return args.toArray(new String[0]);
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void theDefaultSuiteOnSmallSizesWritesEveryOutputAndItsJsonMatchesTheSchema(@TempDir Path tmp) throws Exception {
    Path results = tmp.resolve("results");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    int exit = BenchMain.execute(new PrintStream(console, true, StandardCharsets.UTF_8), small(tmp, results, "--no-nfs"));
    String out = console.toString(StandardCharsets.UTF_8);
    System.out.println(out);
    assertEquals(0, exit, out);

    JsonNode json = new ObjectMapper().readTree(results.resolve("results.json").toFile());
    try (InputStream in = Files.newInputStream(SCHEMA)) {
      JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
      Set<ValidationMessage> errors = schema.validate(json);
      assertTrue(errors.isEmpty(), "results.json against docs/results-schema.json: " + errors);
    }

    // Every workload ran against every in-process configuration, and the rest ran too.
    Set<String> cells = new HashSet<>();
    json.get("results").forEach(r -> cells.add(r.get("workload").asText() + "/" + r.get("config").asText()));
    for (Workload w : Runner.standard(BenchMain.defaults())) {
      for (String c : List.of("local", "uncached", "cached", "nio")) {
        assertTrue(cells.contains(w.name() + "/" + c), "missing " + w.name() + "/" + c + " in " + cells);
      }
    }
    for (String cell : List.of("multi-client-zipf/cached", "multi-client-zipf/uncached", "database-tpcb/local",
        "database-tpcb/cached", "database-tpcb/uncached", "sweep-block-16k/cached", "sweep-cache-4m/cached",
        "sweep-readahead-off/cached")) {
      assertTrue(cells.contains(cell), "missing " + cell + " in " + cells);
    }
    assertEquals(2, json.get("hitPath").size(), "the hot and the large set");
    assertEquals(10, json.get("pingPong").get("turns").asInt(), "both players' turns");
    for (String ratio : List.of("hit_vs_kernel_4k", "hit_vs_kernel_4k_large", "hit_over_floor_4k", "cached_vs_uncached_zipf",
        "cold_seq_vs_raw_transport", "db_cached_vs_local", "db_cached_vs_uncached", "recall_roundtrip_ms")) {
      assertFalse(json.get("ratios").get(ratio).get("value").isNull(), ratio + " measured");
    }
    assertTrue(json.get("ratios").get("uncached_vs_nfs_rand4k_p50").get("value").isNull(), "no NFS peer in this run");
    assertTrue(out.contains("not measured: nfs"), out);

    try (CSVParser csv = CSVParser.parse(results.resolve("results.csv"), StandardCharsets.UTF_8,
        CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build())) {
      List<CSVRecord> rows = csv.getRecords();
      assertEquals(json.get("results").size(), rows.size());
      assertEquals(List.of(Reports.CSV_HEADER), csv.getHeaderNames());
    }
    for (String chart : List.of("throughput-seq.png", "ops-random.png", "latency-p50.png", "hit-path.png", "sweep-block.png",
        "sweep-cache.png", "sweep-readahead.png", "ratios.png")) {
      byte[] png = Files.readAllBytes(results.resolve("charts").resolve(chart));
      assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', chart + " is a PNG");
    }
    String html = Files.readString(results.resolve("report.html"));
    assertEquals(8, html.split("data:image/png;base64,", -1).length - 1, "all eight charts inlined");
    assertTrue(html.contains("hit_vs_kernel_4k") && html.contains("rand-read-zipf-fits"), "the tables are in the report");
    assertNotNull(Files.readString(results.resolve("results.md")));
    assertTrue(out.contains("results: " + results.toAbsolutePath()), "prints where the results are");
  }

  @Test
  void helpDescribesEveryOption() {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream previous = System.out;
    int exit;
    try {
      System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
      exit = BenchMain.execute(System.out, "--help");
    } finally {
      System.setOut(previous);
    }
    String help = console.toString(StandardCharsets.UTF_8);
    assertEquals(0, exit);
    for (picocli.CommandLine.Model.OptionSpec o : new picocli.CommandLine(new BenchMain()).getCommandSpec().options()) {
      assertTrue(help.contains(o.longestName()), o.longestName() + " in --help");
      assertTrue(o.description().length > 0 && !o.description()[0].isBlank(), o.longestName() + " has a description");
    }
  }

  @Test
  void badOptionsAreUsageErrorsBeforeAnythingRuns(@TempDir Path tmp) {
    List<String[]> bad = List.of(new String[] {"--clients", "-1"}, new String[] {"--cache-mib", "0"},
        new String[] {"--seconds", "0"}, new String[] {"--only", "no-such-part"}, new String[] {"--configs", "nfs4"},
        new String[] {"--nfs-peer", "--no-nfs"}, new String[] {"--server", "dafs://127.0.0.1:1", "--nfs-peer"},
        new String[] {"--sweep-block-kib", "-16"});
    for (String[] args : bad) {
      ByteArrayOutputStream console = new ByteArrayOutputStream();
      String[] withResults = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
          java.util.stream.Stream.of("--results", tmp.resolve("r").toString())).toArray(String[]::new);
      PrintStream err = System.err;
      int exit;
      try {
        System.setErr(new PrintStream(console, true, StandardCharsets.UTF_8));
        exit = BenchMain.execute(new PrintStream(console, true, StandardCharsets.UTF_8), withResults);
      } finally {
        System.setErr(err);
      }
      assertEquals(2, exit, String.join(" ", args) + ": " + console.toString(StandardCharsets.UTF_8));
      assertTrue(console.toString(StandardCharsets.UTF_8).contains("Usage"), String.join(" ", args) + " prints the usage");
      assertTrue(Files.notExists(tmp.resolve("r")), String.join(" ", args) + " ran nothing");
    }
  }
}
