package org.cachedafs.bench;

import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The cache benchmark runner, the project's main job. With no arguments it starts an embedded server
 * on a temporary export over real loopback tcp and runs the standard suite; every configuration is
 * measured on the same files in the same run, and the results go to a new directory whose path it
 * prints at the end.
 */
@Command(name = "dafs-bench", mixinStandardHelpOptions = true, version = "dafs-bench 0.1.0", sortOptions = false,
    subcommands = Compare.class,
    description = {"Measures cacheDAFS against the kernel's page cache, the uncached DAFS client, the java.nio provider "
        + "and an NFS peer, on the same files, in one run.",
        "With no arguments: an embedded server on a temporary export, the standard suite, each cell three times "
            + "(several minutes on 2 cores); --quick: a smoke run in under a minute.",
        "dafs-bench compare A/results.json B/results.json: two runs side by side."})
public final class BenchMain implements Callable<Integer> {
  /** Where a usage error points the user, instead of printing the whole help. */
  static final String HINT = "Try 'dafs-bench --help' for the options.";

  @Option(names = "--server", paramLabel = "dafs://HOST:PORT",
      description = "Measure a running server instead of an embedded one.")
  URI server;

  @Option(names = "--secret-file", paramLabel = "FILE", description = "The server's shared secret (with --server).")
  Path secretFile;

  @Option(names = "--export-dir", paramLabel = "DIR",
      description = "With --server: the server's export directory, if this machine sees it; enables the local "
          + "configuration, the hit path and the NFS peer.")
  Path exportDir;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the embedded server's temporary export is made "
      + "(default: ${DEFAULT-VALUE}).", defaultValue = "${sys:java.io.tmpdir}")
  Path workDir;

  @Option(names = "--results", paramLabel = "DIR",
      description = "Where the JSON, CSV, charts and HTML report go (default: bench-results/run-TIMESTAMP).")
  Path results;

  @Option(names = "--nfs-peer", description = "Measure the NFS peer, installing its Debian packages if missing (root); "
      + "fail if it cannot run. Without this flag the peer is used whenever bench/nfs-peer.sh finds its setup present.")
  boolean nfsRequired;

  @Option(names = "--no-nfs", description = "Leave the NFS peer out.")
  boolean noNfs;

  @Option(names = "--nfs-script", paramLabel = "FILE", defaultValue = "bench/nfs-peer.sh",
      description = "The script that runs the NFS peer (default: ${DEFAULT-VALUE}).")
  Path nfsScript;

  @Option(names = "--configs", split = ",", paramLabel = "NAME",
      description = "Configurations to measure: local, uncached, cached, nio, uncached-shm, cached-shm, odafs, odafs-shm, nfs "
          + "(default: all that --transports allows).")
  List<String> configs;

  @Option(names = "--transports", split = ",", paramLabel = "NAME", defaultValue = "tcp,shm",
      description = "DAFS transports to measure over: tcp, shm (default: ${DEFAULT-VALUE}). The plain configurations run over "
          + "tcp, the -shm ones over shared memory, which needs the server on this host.")
  List<String> transports;

  @Option(names = "--only", split = ",", paramLabel = "NAME",
      description = "Run only these parts: workload names (seq-read-cold, seq-write, rand-read-uniform-large, "
          + "rand-read-uniform-fits, rand-read-zipf-fits, rand-read-zipf-large, rand-write, mix-70r-30w-zipf, multi-client-zipf, "
          + "recall-pingpong, database-tpcb), hit-path, sweeps, server-cpu, odafs, restart, fuse (default: everything).")
  List<String> only;

  @Option(names = "--large-mib", defaultValue = "1024", description = "The file many times the cache, MiB (default: ${DEFAULT-VALUE}).")
  long largeMib;

  @Option(names = "--fits-mib", defaultValue = "64", description = "The file that fits in the cache, MiB (default: ${DEFAULT-VALUE}).")
  long fitsMib;

  @Option(names = "--write-mib", defaultValue = "256", description = "The sequential write's file, MiB (default: ${DEFAULT-VALUE}).")
  long writeMib;

  @Option(names = "--cache-mib", defaultValue = "128", description = "The client cache, MiB (default: ${DEFAULT-VALUE}).")
  long cacheMib;

  @Option(names = "--block-kib", defaultValue = "64", description = "The cache block, KiB (default: ${DEFAULT-VALUE}).")
  int blockKib;

  @Option(names = "--hot-mib", defaultValue = "4", description = "The hit path's hot set, MiB: it should fit in the CPU "
      + "caches (default: ${DEFAULT-VALUE}).")
  long hotMib;

  @Option(names = "--hit-large-mib", defaultValue = "1024", description = "The hit path's large set, MiB; 0 skips it "
      + "(default: ${DEFAULT-VALUE}).")
  long hitLargeMib;

  @Option(names = "--hit-ops", defaultValue = "400000", description = "Reads per hit-path round (default: ${DEFAULT-VALUE}).")
  int hitOps;

  @Option(names = "--server-cpu-reads", defaultValue = "20000", paramLabel = "N",
      description = "4 KiB direct reads per transport for the server's CPU per read, the server in its own process; 0 skips it "
          + "(default: ${DEFAULT-VALUE}).")
  int serverCpuReads;

  @Option(names = "--odafs-clients", defaultValue = "8", paramLabel = "N",
      description = "Client processes reading at once for the server's throughput with ODAFS against RPC reads, the server "
          + "pinned to one CPU; 0 skips it (default: ${DEFAULT-VALUE}).")
  int odafsClients;

  @Option(names = "--odafs-seconds", defaultValue = "2", paramLabel = "S",
      description = "Timed part of that throughput probe, per transport and read path, s (default: ${DEFAULT-VALUE}).")
  double odafsSeconds;

  @Option(names = "--restarts", defaultValue = "3", paramLabel = "N",
      description = "Server restarts (kill -9, the server in its own process) an application's pause is timed across, once per run; "
          + "the time to reclaim is timed with 1, 4 and 16 clients after it. 0 skips both (default: ${DEFAULT-VALUE}).")
  int restarts;

  @Option(names = "--fio-mib", defaultValue = "64", paramLabel = "MIB",
      description = "The file fio reads on the FUSE mount (cached and O_DIRECT) and on the local file system, MiB "
          + "(default: ${DEFAULT-VALUE}).")
  long fioMib;

  @Option(names = "--fio-seconds", defaultValue = "3", paramLabel = "S",
      description = "Timed part of each fio job on the FUSE mount and the local file system, s; 0 skips them "
          + "(default: ${DEFAULT-VALUE}).")
  double fioSeconds;

  @Option(names = "--mount-jar", paramLabel = "FILE", defaultValue = "posixapi/target/dafs-mount.jar",
      description = "The FUSE mount's jar, for fio on the mount; without it (or fio, /dev/fuse, fusermount, libfuse2) "
          + "the runner says so and leaves fio out (default: ${DEFAULT-VALUE}).")
  Path mountJar;

  @Option(names = "--seconds", defaultValue = "1.0", description = "Timed part of each random-access measurement, s "
      + "(default: ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--seq-seconds", defaultValue = "8", description = "Time limit of one sequential pass, s (default: ${DEFAULT-VALUE}).")
  double seqSeconds;

  @Option(names = "--zipf", defaultValue = "0.99", description = "Zipf exponent of the skewed workloads (default: ${DEFAULT-VALUE}).")
  double zipf;

  @Option(names = "--clients", defaultValue = "2", description = "Client processes of the multi-client workload; 0 skips it "
      + "(default: ${DEFAULT-VALUE}).")
  int clients;

  @Option(names = "--pingpong-turns", defaultValue = "200", description = "Turns of each ping-pong player; 0 skips it "
      + "(default: ${DEFAULT-VALUE}).")
  int pingPongTurns;

  @Option(names = "--db-seconds", defaultValue = "3", description = "Timed part of each database measurement, s; 0 skips it "
      + "(default: ${DEFAULT-VALUE}).")
  double dbSeconds;

  @Option(names = "--h2-settings", defaultValue = ";WRITE_DELAY=0", paramLabel = ";NAME=VALUE...",
      description = "Appended to the database's JDBC URL (default: ${DEFAULT-VALUE}: every commit is written to the file "
          + "system before it returns, as TPC-B's durability asks; '' leaves H2 to its own 500 ms write delay, under which "
          + "the workload measures H2 itself rather than the file system).")
  String h2Settings;

  @Option(names = "--transport-mib", defaultValue = "1024", description = "Bytes the raw-transport reference moves, MiB "
      + "(default: ${DEFAULT-VALUE}).")
  long transportMib;

  @Option(names = "--sweep-block-kib", split = ",", defaultValue = "16,64,256",
      description = "Block sizes of the block-size sweep, KiB; 0 skips it (default: ${DEFAULT-VALUE}).")
  List<Integer> sweepBlockKib;

  @Option(names = "--sweep-cache-mib", split = ",", defaultValue = "16,32,128",
      description = "Cache sizes of the cache-size sweep, MiB; 0 skips it (default: ${DEFAULT-VALUE}).")
  List<Long> sweepCacheMib;

  @Option(names = "--no-sweep-readahead", description = "Skip the read-ahead on/off sweep.")
  boolean noSweepReadAhead;

  @Option(names = "--seed", defaultValue = "2002", description = "Seed of every access pattern (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--repeat", defaultValue = "3", paramLabel = "N", description = "Runs of each measured cell, the "
      + "configurations round-robin; every figure and ratio is their median, with their min-max (default: ${DEFAULT-VALUE}).")
  int repeat;

  @Option(names = "--quick", description = "A smoke run in under a minute: small files, short cells, one repetition, no NFS "
      + "peer unless --nfs-peer; options given beside it win.")
  boolean quick;

  @Option(names = "--no-progress", description = "Print one line per step instead of a progress bar (the default when the "
      + "output is not a terminal).")
  boolean noProgress;

  @Option(names = "--verbose", description = "On a failure, print the stack trace as well as the cause.")
  boolean verbose;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  private final PrintStream out;

  public BenchMain() {
    this(System.out);
  }

  BenchMain(PrintStream out) {
    this.out = out;
  }

  /** The standard suite's settings: the options' defaults. */
  static Settings defaults() {
    BenchMain m = new BenchMain();
    new CommandLine(m).parseArgs();
    return m.settings();
  }

  Settings settings() {
    return new Settings(largeMib << 20, fitsMib << 20, writeMib << 20, cacheMib << 20, blockKib << 10, hotMib << 20,
        hitLargeMib << 20, hitOps, seconds, seqSeconds, zipf, clients, pingPongTurns, dbSeconds, h2Settings, transportMib << 20,
        sweepBlockKib.stream().filter(k -> k > 0).map(k -> k << 10).toList(),
        sweepCacheMib.stream().filter(m -> m > 0).map(m -> m << 20).toList(), !noSweepReadAhead, seed, repeat, serverCpuReads, odafsClients,
        odafsSeconds, restarts, fioMib << 20, fioSeconds);
  }

  /**
   * {@code --quick}: sizes and times that exercise every part of the suite in under a minute on two
   * cores, for any option not given on the command line. The figures it gives are not to be quoted.
   */
  private void applyQuick() {
    CommandLine.ParseResult given = spec.commandLine().getParseResult();
    java.util.function.BiConsumer<String, Runnable> unless = (option, set) -> {
      if (!given.hasMatchedOption(option)) {
        set.run();
      }
    };
    unless.accept("--large-mib", () -> largeMib = 16);
    unless.accept("--fits-mib", () -> fitsMib = 8);
    unless.accept("--write-mib", () -> writeMib = 4);
    unless.accept("--cache-mib", () -> cacheMib = 16);
    unless.accept("--hot-mib", () -> hotMib = 1);
    unless.accept("--hit-large-mib", () -> hitLargeMib = 16);
    unless.accept("--hit-ops", () -> hitOps = 20000);
    unless.accept("--transport-mib", () -> transportMib = 64);
    unless.accept("--seconds", () -> seconds = 0.1);
    unless.accept("--seq-seconds", () -> seqSeconds = 2);
    unless.accept("--db-seconds", () -> dbSeconds = 0.3);
    unless.accept("--pingpong-turns", () -> pingPongTurns = 5);
    unless.accept("--sweep-block-kib", () -> sweepBlockKib = List.of(16, 64));
    unless.accept("--sweep-cache-mib", () -> sweepCacheMib = List.of(4L, 16L));
    unless.accept("--repeat", () -> repeat = 1);
    unless.accept("--server-cpu-reads", () -> serverCpuReads = 2000);
    unless.accept("--odafs-clients", () -> odafsClients = 2);
    unless.accept("--odafs-seconds", () -> odafsSeconds = 0.3);
    unless.accept("--restarts", () -> restarts = 1);
    unless.accept("--fio-mib", () -> fioMib = 8);
    unless.accept("--fio-seconds", () -> fioSeconds = 0.5);
    if (!nfsRequired) {
      noNfs = true;
    }
  }

  /** Sizes and times that make no sense are usage errors (exit 2), found before anything runs. */
  private void validate() {
    positive("--large-mib", largeMib);
    positive("--fits-mib", fitsMib);
    positive("--write-mib", writeMib);
    positive("--cache-mib", cacheMib);
    positive("--block-kib", blockKib);
    positive("--hot-mib", hotMib);
    positive("--hit-ops", hitOps);
    positive("--transport-mib", transportMib);
    positive("--repeat", repeat);
    positive("--fio-mib", fioMib);
    notNegative("--hit-large-mib", hitLargeMib);
    notNegative("--clients", clients);
    notNegative("--pingpong-turns", pingPongTurns);
    notNegative("--server-cpu-reads", serverCpuReads);
    notNegative("--odafs-clients", odafsClients);
    notNegative("--restarts", restarts);
    if (!(seconds > 0) || !(seqSeconds > 0) || !(dbSeconds >= 0) || !(zipf > 0) || !(odafsSeconds > 0) || !(fioSeconds >= 0)) {
      throw usage("--seconds, --seq-seconds, --odafs-seconds and --zipf must be above 0, --db-seconds and --fio-seconds at least 0");
    }
    if (sweepBlockKib.stream().anyMatch(k -> k < 0) || sweepCacheMib.stream().anyMatch(m -> m < 0)) {
      throw usage("sweep sizes must not be negative (0 skips the sweep)");
    }
    if (only != null) {
      Set<String> known = new java.util.HashSet<>(List.of(Runner.MULTI, "recall-pingpong", Ratios.DB, "hit-path", "sweeps", "server-cpu",
          "odafs", "restart", "fuse"));
      Runner.standard(settings()).forEach(w -> known.add(w.name()));
      for (String o : only) {
        if (!known.contains(o)) {
          throw usage("--only: no part called '" + o + "'; the parts are " + new java.util.TreeSet<>(known));
        }
      }
    }
  }

  private void positive(String option, long value) {
    if (value <= 0) {
      throw usage(option + " must be above 0, not " + value);
    }
  }

  private void notNegative(String option, long value) {
    if (value < 0) {
      throw usage(option + " must not be negative (0 skips it), not " + value);
    }
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(new CommandLine(this), message);
  }

  @Override
  public Integer call() throws Exception {
    if (quick) {
      applyQuick();
    }
    validate();
    Settings s = settings();
    for (String t : transports) {
      if (!t.trim().equals("tcp") && !t.trim().equals("shm")) {
        throw usage("--transports: no transport called '" + t.trim() + "'; they are tcp and shm");
      }
    }
    Set<Config> chosen = EnumSet.noneOf(Config.class);
    for (String c : configs == null ? List.of("local", "uncached", "cached", "nio", "uncached-shm", "cached-shm", "odafs", "odafs-shm", "nfs")
        : configs) {
      Config config;
      try {
        config = Config.of(c.trim());
      } catch (IllegalArgumentException e) {
        throw usage("--configs: no configuration called '" + c.trim() + "'; they are local, uncached, cached, nio, uncached-shm, "
            + "cached-shm, odafs, odafs-shm and nfs");
      }
      if (config.transport() == null || transports.stream().anyMatch(t -> t.trim().equals(config.transport()))) {
        chosen.add(config);
      }
    }
    if (nfsRequired && noNfs) {
      throw usage("--nfs-peer and --no-nfs contradict each other");
    }
    if (nfsRequired && server != null && exportDir == null) {
      throw usage("--nfs-peer exports the server's export directory: with --server, say where it is with --export-dir");
    }
    Predicate<String> selected = only == null ? x -> true : only::contains;
    Path dir = results != null ? results
        : Path.of("bench-results", "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    Files.createDirectories(dir);
    Runner.NfsMode nfs = noNfs ? Runner.NfsMode.OFF : nfsRequired ? Runner.NfsMode.REQUIRED : Runner.NfsMode.AUTO;
    List<String> command = new ArrayList<>(List.of(commandLine));
    RunRecord run;
    try (Fixture fixture = fixture()) {
      out.println("dafs-bench: " + (fixture.embedded() ? "embedded server " : "server ") + fixture.server()
          + (fixture.export() != null ? ", export " + fixture.export() : ""));
      Runner runner = new Runner(s, fixture, chosen, selected, nfs, nfsScript, mountJar, dir, out);
      // A bar redraws its line with carriage returns: only a terminal shows that as one line.
      boolean terminal = System.console() != null && out == System.out;
      try (Progress progress = noProgress || !terminal ? Progress.lines(out) : Progress.bar(runner.steps())) {
        run = runner.run(command, progress);
      }
    }
    Reports.writeAll(run, dir);
    out.print(Reports.console(run));
    out.println("\nresults: " + dir.toAbsolutePath() + " (results.json, results.csv, report.html, charts/)");
    return 0;
  }

  private Fixture fixture() throws java.io.IOException {
    if (server == null) {
      return Fixture.embedded(workDir);
    }
    byte[] secret = null;
    if (secretFile != null) {
      secret = Files.readString(secretFile).strip().getBytes(StandardCharsets.UTF_8);
      if (secret.length == 0) {
        throw new CommandLine.ParameterException(new CommandLine(this), "the secret file " + secretFile + " is empty");
      }
    }
    return Fixture.remote(server, secret, exportDir);
  }

  private String[] commandLine = new String[0];

  PrintStream out() {
    return out;
  }

  /**
   * Runs the command line; the exit code is 0 on success, 1 if a measurement failed (wrong data
   * included), 2 on bad usage. A usage error prints itself and where to find help; a failure prints
   * its cause on one line, and its stack trace only with {@code --verbose}.
   */
  static int execute(PrintStream out, String... args) {
    BenchMain main = new BenchMain(out);
    main.commandLine = args.clone();
    CommandLine cl = new CommandLine(main);
    cl.setParameterExceptionHandler((e, a) -> {
      CommandLine c = e.getCommandLine();
      c.getErr().println("dafs-bench: " + oneLine(e.getMessage()));
      c.getErr().println(c.getParent() == null ? HINT : "Try 'dafs-bench " + c.getCommandName() + " --help' for its arguments.");
      return 2;
    });
    cl.setExecutionExceptionHandler((e, c, parsed) -> {
      c.getErr().println("dafs-bench: failed: " + Failure.describe(e));
      if (main.verbose) {
        e.printStackTrace(c.getErr());
      } else {
        c.getErr().println("(--verbose prints the stack trace)");
      }
      return 1;
    });
    return cl.execute(args);
  }

  static String oneLine(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", "; ");
  }

  public static void main(String[] args) {
    System.exit(execute(System.out, args));
  }
}
