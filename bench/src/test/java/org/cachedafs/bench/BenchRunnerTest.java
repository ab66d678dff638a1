package org.cachedafs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner end to end: the default suite on small sizes ({@code --quick}) against an embedded
 * server, with every in-process configuration, client processes, the database and the sweeps, its
 * JSON against the documented schema and every other output present; repetitions against a remote
 * server on a fresh export, and {@code compare} on what they wrote; usage errors and failures.
 */
class BenchRunnerTest {
  static final Path SCHEMA = Path.of("..", "docs", "results-schema.json");
  /** A run written by an earlier version of the runner (schema 1, before repetitions): the default run of 2026-11-24. */
  static final Path SCHEMA1 = Path.of("src", "test", "resources", "results-schema1.json");

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

  /** What a command printed on standard output and standard error, and its exit code. */
  record Run(int exit, String out, String err) {
    String all() {
      return out + err;
    }
  }

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream previous = System.err;
    int exit;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      exit = BenchMain.execute(new PrintStream(out, true, StandardCharsets.UTF_8), args);
    } finally {
      System.setErr(previous);
    }
    Run r = new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    System.out.println(r.out());
    System.out.println(r.err());
    return r;
  }

  static void assertMatchesSchema(JsonNode json) throws Exception {
    try (InputStream in = Files.newInputStream(SCHEMA)) {
      JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
      Set<ValidationMessage> errors = schema.validate(json);
      assertTrue(errors.isEmpty(), "results.json against docs/results-schema.json: " + errors);
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void theQuickSuiteWritesEveryOutputAndItsJsonMatchesTheSchema(@TempDir Path tmp) throws Exception {
    Path results = tmp.resolve("results");
    // No --no-progress: the output is not a terminal, so the runner must print lines by itself.
    Run r = run("--quick", "--work-dir", tmp.toString(), "--results", results.toString(), "--mount-jar",
        FuseProbeTest.JAR.toString());
    String out = r.out();
    assertEquals(0, r.exit(), r.all());
    assertFalse(r.all().contains("\r") || r.all().contains("\u001b"), "no progress-bar control characters off a terminal");
    assertTrue(out.contains("bench: rand-write / cached\n"), "one line per step");

    JsonNode json = new ObjectMapper().readTree(results.resolve("results.json").toFile());
    assertMatchesSchema(json);

    // Every workload ran against every in-process configuration, once (--quick), and the rest ran too.
    Set<String> cells = new HashSet<>();
    json.get("results").forEach(x -> cells.add(x.get("workload").asText() + "/" + x.get("config").asText()));
    json.get("results").forEach(x -> assertEquals(1, x.get("repeat").asInt(), "--quick runs each cell once"));
    for (Workload w : Runner.standard(BenchMain.defaults())) {
      for (String c : List.of("local", "uncached", "cached", "nio")) {
        assertTrue(cells.contains(w.name() + "/" + c), "missing " + w.name() + "/" + c + " in " + cells);
      }
    }
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
        "seq_read_cold_cached_vs_uncached", "rand_write_cached_vs_uncached", "cold_seq_vs_raw_transport", "db_cached_vs_local",
        "db_cached_vs_uncached", "recall_roundtrip_ms")) {
      JsonNode x = json.get("ratios").get(ratio);
      assertFalse(x.get("value").isNull(), ratio + " measured");
      assertTrue(x.get("min").asDouble() <= x.get("value").asDouble() && x.get("value").asDouble() <= x.get("max").asDouble(),
          ratio + ": the median lies within its range: " + x);
    }
    assertEquals(0.8, json.get("ratios").get("uncached_vs_nfs_rand4k_p50").get("goal").asDouble());
    for (String ratio : List.of("uncached_vs_nfs_rand4k_p50", "uncached_vs_nfs_rand4k_ops")) {
      assertTrue(json.get("ratios").get(ratio).get("value").isNull(), "no NFS peer in a quick run");
    }
    assertTrue(out.contains("not measured: nfs: left out"), out);
    // fio on the FUSE mount: its figures where the mount can run, else the reason under "skipped".
    String fuse = FuseMount.unavailable(FuseProbeTest.JAR);
    for (String ratio : List.of("fuse_cached_vs_local_rand4k", "fuse_cached_vs_uncached_rand4k", "fuse_cached_vs_local_seq1m")) {
      assertEquals(fuse == null, !json.get("ratios").get(ratio).get("value").isNull(), ratio + ": " + fuse);
    }
    assertTrue(fuse == null || out.contains("not measured: fuse: " + fuse), out);

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
    assertTrue(html.contains("class=\"met\"") || html.contains("class=\"missed\""), "met and missed are coloured");
    assertTrue(html.contains(" cores, ") && !html.contains("Machine["), "the machine as text, not a record's toString");
    assertTrue(html.contains("java -jar bench/target/dafs-bench.jar --quick"), "the command that ran");
    assertNotNull(Files.readString(results.resolve("results.md")));
    assertTrue(out.contains("results: " + results.toAbsolutePath()), "prints where the results are");
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void repeatsAgainstARemoteServerOnAFreshExportThatIsLeftAsItWasThenCompare(@TempDir Path tmp) throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    Path results = tmp.resolve("results");
    try (DafsServer server = DafsServer.start(ServerOptions.of(export))) {
      Run r = run("--server", server.uri().toString(), "--quick", "--repeat", "2", "--configs", "uncached,cached", "--only",
          "seq-read-cold,rand-write,database-tpcb", "--large-mib", "4", "--fits-mib", "4", "--transport-mib", "16",
          "--clients", "0", "--pingpong-turns", "0", "--results", results.toString());
      assertEquals(0, r.exit(), r.all());
      assertTrue(r.out().contains("bench: rand-write / cached (2 of 2)\n"), "the repetitions' steps, one line each");
      try (java.util.stream.Stream<Path> left = Files.list(export)) {
        assertEquals(List.of(), left.toList(), "the runner removed what it wrote and the directories it made");
      }
    }
    JsonNode json = new ObjectMapper().readTree(results.resolve("results.json").toFile());
    assertMatchesSchema(json);
    // Round-robin: each repetition ran every configuration before the next began.
    List<String> order = new java.util.ArrayList<>();
    json.get("results").forEach(x -> order.add(x.get("workload").asText() + "/" + x.get("config").asText() + "/"
        + x.get("repeat").asInt()));
    assertEquals(List.of("seq-read-cold/uncached/1", "seq-read-cold/cached/1", "seq-read-cold/uncached/2",
        "seq-read-cold/cached/2", "rand-write/uncached/1", "rand-write/cached/1", "rand-write/uncached/2", "rand-write/cached/2",
        "database-tpcb/cached/1", "database-tpcb/uncached/1", "database-tpcb/cached/2", "database-tpcb/uncached/2"), order);
    for (String ratio : List.of("seq_read_cold_cached_vs_uncached", "rand_write_cached_vs_uncached", "db_cached_vs_uncached")) {
      JsonNode x = json.get("ratios").get(ratio);
      assertEquals(2, x.get("repeats").asInt(), ratio + " over both repetitions: " + x);
      assertTrue(x.get("min").asDouble() <= x.get("value").asDouble() && x.get("value").asDouble() <= x.get("max").asDouble(),
          ratio + ": the median lies within its range: " + x);
    }
    String md = Files.readString(results.resolve("results.md"));
    assertTrue(md.contains("ran 2 times") && md.matches("(?s).*rand_write_cached_vs_uncached \\| [0-9.]+ \\([0-9.]+–[0-9.]+\\).*"),
        "the median and its range in the report: " + md);

    // compare: against itself nothing changed; against a copy with one ratio ten times larger, that one changed.
    Run same = run("compare", results.resolve("results.json").toString(), results.toString());
    assertEquals(0, same.exit(), same.all());
    json.get("ratios").fieldNames().forEachRemaining(k -> assertTrue(same.out().contains(k), k + " compared"));
    assertTrue(same.out().contains("rand-write / cached, ops/s"), same.out());
    assertFalse(same.out().matches("(?s).*[+-][1-9][0-9.]*%.*"), "no change between a run and itself");

    ObjectNode doubled = (ObjectNode) new ObjectMapper().readTree(results.resolve("results.json").toFile());
    ObjectNode writes = (ObjectNode) doubled.get("ratios").get("rand_write_cached_vs_uncached");
    for (String f : List.of("value", "min", "max")) {
      writes.put(f, writes.get(f).asDouble() * 10);
    }
    Path b = tmp.resolve("b.json");
    new ObjectMapper().writeValue(b.toFile(), doubled);
    Run changed = run("compare", results.resolve("results.json").toString(), b.toString());
    assertEquals(0, changed.exit(), changed.all());
    String line = changed.out().lines().filter(l -> l.startsWith("rand_write_cached_vs_uncached")).findFirst().orElseThrow();
    assertTrue(line.contains("+900.0%") && line.contains("better"), line);

    // A run written before repetitions existed still compares; the ratios it lacks are marked.
    Run old = run("compare", SCHEMA1.toString(), results.toString());
    assertEquals(0, old.exit(), old.all());
    assertTrue(old.out().lines().anyMatch(l -> l.startsWith("seq_read_cold_cached_vs_uncached") && l.contains("only in B")),
        old.out());
  }

  @Test
  void aFailurePrintsItsCauseOnOneLineAndItsStackTraceOnlyWhenVerbose(@TempDir Path tmp) throws Exception {
    String[] args = {"--server", "dafs://127.0.0.1:1", "--quick", "--results", tmp.resolve("r").toString()};
    Run quiet = run(args);
    assertEquals(1, quiet.exit());
    List<String> lines = quiet.err().lines().filter(l -> l.startsWith("dafs-bench: failed: ")).toList();
    assertEquals(1, lines.size(), quiet.err());
    assertFalse(quiet.err().contains("\tat "), "no stack trace: " + quiet.err());

    String[] verbose = java.util.stream.Stream.concat(java.util.Arrays.stream(args), java.util.stream.Stream.of("--verbose"))
        .toArray(String[]::new);
    Run loud = run(verbose);
    assertEquals(1, loud.exit());
    assertTrue(loud.err().contains("\tat "), "the stack trace: " + loud.err());
  }

  @Test
  void aFacadeFailureNamesItsErrno(@TempDir Path tmp) throws Exception {
    try (Fixture fixture = Fixture.embedded(tmp);
        Target t = fixture.target(Config.UNCACHED, org.cachedafs.cache.CacheConfig.defaults())) {
      java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
          () -> t.open("no/such.bin", false));
      assertTrue(e.getMessage().contains("ENOENT") && !e.getMessage().contains("errno 2"), e.getMessage());
      assertTrue(Failure.describe(new java.io.UncheckedIOException("opening the set", e)).contains("ENOENT"));
    }
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
        new String[] {"--sweep-block-kib", "-16"}, new String[] {"--repeat", "0"}, new String[] {"--fio-mib", "0"}, new String[] {"--fio-seconds", "-1"},
        new String[] {"--no-such-option"});
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
      String printed = console.toString(StandardCharsets.UTF_8);
      assertEquals(2, exit, String.join(" ", args) + ": " + printed);
      List<String> lines = printed.lines().toList();
      assertEquals(2, lines.size(), String.join(" ", args) + " prints the error and a hint, not the help: " + printed);
      assertTrue(lines.get(0).startsWith("dafs-bench: ") && lines.get(1).equals(BenchMain.HINT), printed);
      assertTrue(Files.notExists(tmp.resolve("r")), String.join(" ", args) + " ran nothing");
    }
    Run compare = run("compare", tmp.resolve("only-one.json").toString());
    assertEquals(2, compare.exit(), compare.all());
    assertTrue(compare.err().contains("compare --help"), compare.err());
  }
}
