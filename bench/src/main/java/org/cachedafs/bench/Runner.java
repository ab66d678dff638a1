package org.cachedafs.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.cachedafs.cache.CacheConfig;

/**
 * Runs one suite: the files, the physical reference, the hit path, every workload against every
 * configuration on the same files, the client processes, the database and the sweeps, then the
 * ratios. Every step fails loudly: a workload that reads a wrong byte ends the run.
 */
final class Runner {
  static final String LARGE = "sets/large.bin";
  static final String FITS = "sets/fits.bin";
  static final String HOT = "sets/hot.bin";
  static final String PINGPONG = "sets/pingpong.bin";
  static final String MULTI = "multi-client-zipf";
  private static final int SEQ_IO = 1 << 20;
  private static final int RAND_IO = 4096;

  /** How the NFS peer is chosen: used if its setup is present, required (and installed), or left out. */
  enum NfsMode { AUTO, REQUIRED, OFF }

  private final Settings s;
  private final Fixture fixture;
  private final Set<Config> configs;
  /** Configurations that turned out not to run against this server (shm to a server elsewhere). */
  private final Set<Config> unusable = java.util.EnumSet.noneOf(Config.class);
  private final Predicate<String> selected;
  private final NfsMode nfsMode;
  private final Path nfsScript;
  private final Path mountJar;
  private final Path resultsDir;
  private Progress progress;
  private String currentStep = "start";
  private final PrintStream log;
  private final List<Result> results = new ArrayList<>();
  private final List<String> skipped = new ArrayList<>();
  /** Names this run's database and scratch files apart from another run's on the same export. */
  private final String runId = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 16);
  private int scratchFiles;

  Runner(Settings s, Fixture fixture, Set<Config> configs, Predicate<String> selected, NfsMode nfsMode, Path nfsScript,
      Path mountJar, Path resultsDir, PrintStream log) {
    this.s = s;
    this.fixture = fixture;
    this.configs = configs;
    this.selected = selected;
    this.nfsMode = nfsMode;
    this.nfsScript = nfsScript;
    this.mountJar = mountJar;
    this.resultsDir = resultsDir;
    this.log = log;
  }

  /** The workloads every configuration runs, in order. */
  static List<Workload> standard(Settings s) {
    return List.of(
        new Workload("seq-read-cold", Workload.Op.READ, Workload.Access.SEQUENTIAL, 0, SEQ_IO, LARGE, s.largeBytes(), 1, false,
            s.seqSeconds(), true),
        new Workload("seq-write", Workload.Op.WRITE, Workload.Access.SEQUENTIAL, 0, SEQ_IO, "sets/write.bin", s.writeBytes(), 0,
            false, s.seqSeconds(), true),
        new Workload(Ratios.RAND_LARGE, Workload.Op.READ, Workload.Access.UNIFORM, 0, RAND_IO, LARGE, s.largeBytes(), 1, false,
            s.cellSeconds(), false),
        new Workload("rand-read-uniform-fits", Workload.Op.READ, Workload.Access.UNIFORM, 0, RAND_IO, FITS, s.fitsBytes(), 1, true,
            s.cellSeconds(), false),
        new Workload(Ratios.ZIPF, Workload.Op.READ, Workload.Access.ZIPF, s.zipfSkew(), RAND_IO, FITS, s.fitsBytes(), 1, true,
            s.cellSeconds(), false),
        new Workload("rand-read-zipf-large", Workload.Op.READ, Workload.Access.ZIPF, s.zipfSkew(), RAND_IO, LARGE, s.largeBytes(), 1,
            false, s.cellSeconds(), false),
        new Workload("rand-write", Workload.Op.WRITE, Workload.Access.UNIFORM, 0, RAND_IO, "sets/rand-write.bin", s.fitsBytes(), 0,
            false, s.cellSeconds(), false),
        new Workload("mix-70r-30w-zipf", Workload.Op.MIX, Workload.Access.ZIPF, s.zipfSkew(), RAND_IO, "sets/mix.bin", s.fitsBytes(),
            0.7, true, s.cellSeconds(), false));
  }

  /** Whether configuration {@code c} runs workload {@code w}: ODAFS ones only the random reads (see {@link Config#optimistic}). */
  static boolean runs(Config c, Workload w) {
    return !c.optimistic() || (w.op() == Workload.Op.READ && w.access() != Workload.Access.SEQUENTIAL);
  }

  CacheConfig cacheConfig() {
    return CacheConfig.defaults().withCapacity(s.cacheBytes()).withBlockSize(s.blockSize())
        .withSlabBytes(Math.max(s.blockSize(), Math.min(s.cacheBytes(), 64L << 20)));
  }

  /** The number of steps {@link #run} reports to the progress bar. */
  int steps() {
    List<Workload> w = standard(s).stream().filter(x -> selected.test(x.name())).toList();
    long cells = w.stream().mapToLong(x -> configs.stream().filter(c -> c != Config.NFS && runs(c, x)).count()).sum();
    return 4 + (int) cells * s.repeat() + 1 + fusePlan().steps() + 2 + 3 * s.repeat() + 3
        + (s.sweepBlockSizes().size() + s.sweepCacheBytes().size() + (s.sweepReadAhead() ? 2 : 0)) * s.repeat();
  }

  /** Runs the suite; a failure says at which step, so that its one line of cause has a context. */
  RunRecord run(List<String> command, Progress progress) throws IOException, InterruptedException {
    try {
      return measure(command, progress);
    } catch (IOException | RuntimeException e) {
      throw new IOException("step '" + currentStep + "': " + Failure.describe(e), e);
    }
  }

  private RunRecord measure(List<String> command, Progress progress) throws IOException, InterruptedException {
    this.progress = progress;
    long t0 = System.nanoTime();
    String started = Instant.now().toString();
    List<Workload> workloads = standard(s).stream().filter(x -> selected.test(x.name())).toList();

    step("files");
    fixture.create(LARGE, LARGE, s.largeBytes());
    fixture.create(FITS, FITS, s.fitsBytes());
    fixture.create(HOT, HOT, s.hotBytes());

    step("physical reference");
    PhysicalReference reference = PhysicalReference.measure(s.transportBytes(), 2000);

    List<HitProbe> hits = new ArrayList<>();
    step("hit path");
    if (fixture.export() == null) {
      skipped.add("hit path: needs the export on this machine to compare with the kernel (--export-dir)");
    } else if (selected.test("hit-path")) {
      hits.add(HitProbe.measure(fixture, HOT, s.hotBytes(), s.hitOps(), 7));
      if (s.hitLargeBytes() > 0) {
        String file = s.hitLargeBytes() == s.largeBytes() ? LARGE : "sets/hit-large.bin";
        if (!file.equals(LARGE)) {
          fixture.create(file, file, s.hitLargeBytes());
        }
        hits.add(HitProbe.measure(fixture, file, s.hitLargeBytes(), Math.max(1, s.hitOps() / 4), 5));
      }
    }

    step("warm-up");
    warmUp(workloads);

    // Round-robin: each repetition runs every configuration once, so that a drift of the machine
    // (a neighbour's build, the page cache filling) meets all of them alike.
    for (Workload w : workloads) {
      for (int rep = 1; rep <= s.repeat(); rep++) {
        for (Config c : configs) {
          if (c == Config.NFS || !runs(c, w)) {
            continue;
          }
          step(w.name() + " / " + c.label() + repetition(rep));
          if (c == Config.LOCAL && fixture.export() == null) {
            skipOnce("local: the export is not on this machine (--export-dir)");
            continue;
          }
          if (unusable.contains(c)) {
            continue;
          }
          try {
            results.add(cell(c, w, cacheConfig(), w.name()).withRepeat(rep));
          } catch (IOException | IllegalArgumentException e) {
            shmUnusable(c, e);
          }
        }
      }
    }

    step("nfs");
    if (configs.contains(Config.NFS)) {
      nfs(workloads);
    }

    if (s.fioSeconds() > 0 && selected.test("fuse")) {
      fuse();
    } else {
      progress.skip(fusePlan().steps());
    }

    step("multi-client");
    if (s.clients() > 0 && selected.test(MULTI)) {
      multiClient(standard(s).stream().filter(w -> w.name().equals(Ratios.ZIPF)).findFirst().orElseThrow());
    }

    PingPong pingPong = null;
    step("recall ping-pong");
    if (s.pingPongTurns() > 0 && selected.test("recall-pingpong")) {
      pingPong = pingPong();
    }

    if (s.dbSeconds() > 0 && selected.test(Ratios.DB)) {
      fixture.directory("db");
      for (int rep = 1; rep <= s.repeat(); rep++) {
        for (Config c : List.of(Config.LOCAL, Config.CACHED, Config.UNCACHED)) {
          step("database / " + c.label() + repetition(rep));
          if (!configs.contains(c) || (c == Config.LOCAL && fixture.export() == null)) {
            continue;
          }
          results.add(Database.run(fixture, c, "db/" + runId + "-" + c.label() + "-" + rep, s.dbSeconds(), s.seed(),
              s.cacheBytes(), s.blockSize(), s.h2Settings()).withRepeat(rep));
        }
      }
    } else {
      progress.skip(3 * s.repeat());
    }

    sweeps();

    step("server cpu per read");
    List<String> transports = new ArrayList<>();
    if (configs.contains(Config.UNCACHED)) {
      transports.add("tcp");
    }
    if (configs.contains(Config.UNCACHED_SHM) && !unusable.contains(Config.UNCACHED_SHM)) {
      transports.add("shm");
    }
    List<List<ServerCpuProbe>> serverCpu = new ArrayList<>();
    if (s.serverCpuReads() > 0 && selected.test("server-cpu") && !transports.isEmpty()) {
      try {
        for (int rep = 1; rep <= s.repeat(); rep++) {
          serverCpu.add(ServerCpuProbe.measure(transports, s.serverCpuReads()));
        }
      } catch (IOException e) {
        // The run's other figures stand; these are reported missing, with why.
        serverCpu.clear();
        skipOnce("server cpu per read: " + Failure.describe(e));
      }
    }
    step("odafs: server throughput and staleness");
    List<List<ServerThroughputProbe>> throughput = new ArrayList<>();
    List<List<StalenessProbe>> staleness = new ArrayList<>();
    if (selected.test("odafs") && !transports.isEmpty()) {
      try {
        for (int rep = 1; rep <= s.repeat(); rep++) {
          if (s.odafsClients() > 0) {
            throughput.add(ServerThroughputProbe.measure(transports, s.odafsClients(), s.odafsSeconds()));
          }
          if (s.serverCpuReads() > 0) {
            staleness.add(StalenessProbe.measure(transports.get(transports.size() - 1), Math.max(200, s.serverCpuReads() / 10)));
          }
        }
      } catch (IOException e) {
        throughput.clear();
        staleness.clear();
        skipOnce("odafs server throughput and staleness: " + Failure.describe(e));
      }
    }

    step("server restart");
    List<RestartProbe> restarts = new ArrayList<>();
    if (s.restarts() > 0 && selected.test("restart")) {
      try {
        restarts.add(RestartProbe.measure(s.restarts()));
      } catch (IOException e) {
        skipOnce("server restart: " + Failure.describe(e));
      }
    }

    RunRecord run = new RunRecord(RunRecord.SCHEMA, started, (System.nanoTime() - t0) / 1e9, command,
        fixture.embedded() ? "embedded " + fixture.server() : fixture.server().toString(), Machine.current(), s.asMap(),
        reference, hits, pingPong, List.copyOf(results), null, List.copyOf(skipped));
    Map<String, Ratio> ratios = new LinkedHashMap<>(Ratios.compute(run));
    ratios.putAll(OdafsRatios.compute(serverCpu, throughput, staleness, s.odafsClients()));
    ratios.putAll(RestartRatios.compute(restarts));
    return run.withRatios(ratios);
  }

  /**
   * A shm configuration that cannot run against this server (it is on another host, offers no shm,
   * or shm cannot run here) is left out for the rest of the run and said so; anything else fails.
   */
  private void shmUnusable(Config c, Exception e) throws IOException {
    if (!"shm".equals(c.transport()) || !String.valueOf(e.getMessage()).contains("transport=shm")) {
      if (e instanceof IOException io) {
        throw io;
      }
      throw (RuntimeException) e;
    }
    unusable.add(c);
    skipOnce(c.label() + ": " + e.getMessage());
  }

  private void step(String what) {
    currentStep = what;
    progress.step(what);
  }

  private String repetition(int rep) {
    return s.repeat() == 1 ? "" : " (" + rep + " of " + s.repeat() + ")";
  }

  private void skipOnce(String why) {
    if (!skipped.contains(why)) {
      skipped.add(why);
    }
  }

  /**
   * Runs every workload briefly, untimed, on the file that fits, through each in-process
   * configuration: the first measurement of a path would otherwise time the JIT compiling it. Each
   * measurement afterwards still starts with a new session and a cold cache.
   */
  private void warmUp(List<Workload> workloads) throws IOException {
    for (Workload w : workloads) {
      long bytes = Math.min(w.fileBytes(), s.fitsBytes());
      Workload brief = new Workload(w.name(), w.op(), w.access(), w.zipfSkew(), w.ioSize(), w.writes() ? w.file() : FITS,
          bytes - bytes % w.ioSize(), w.readFraction(), false, 0.1, false);
      for (Config c : configs) {
        if (c != Config.NFS && runs(c, w) && (c != Config.LOCAL || fixture.export() != null) && !unusable.contains(c)) {
          try {
            cell(c, brief, cacheConfig(), "warm-up");
          } catch (IOException | IllegalArgumentException e) {
            shmUnusable(c, e);
          }
        }
      }
    }
  }

  /** One workload against one in-process configuration, on a scratch copy if it writes. */
  private Result cell(Config c, Workload w, CacheConfig cache, String name) throws IOException {
    String file = w.file();
    if (w.writes()) {
      // Its own name, so a cell never sees what an earlier one (its warm-up) left behind.
      file = "scratch/" + runId + "-" + ++scratchFiles + "-" + w.name() + "-" + c.label() + ".bin";
      fixture.create(file, w.file(), w.fileBytes());
    }
    try (Target t = fixture.target(c, cache)) {
      Result r = CellRunner.run(t, w, file, fixture.onDisk(file), s.seed(), 1);
      return r.withWorkload(name);
    } finally {
      if (w.writes()) {
        fixture.delete(file);
      }
    }
  }

  private void nfs(List<Workload> workloads) throws IOException, InterruptedException {
    if (fixture.export() == null) {
      skipped.add("nfs: the NFS peer exports the export directory, which is not on this machine");
      return;
    }
    if (nfsMode == NfsMode.OFF) {
      skipped.add("nfs: left out (--no-nfs, or --quick without --nfs-peer)");
      return;
    }
    String why = nfsMode == NfsMode.REQUIRED ? null : NfsPeer.unavailable(nfsScript);
    if (why != null) {
      skipped.add("nfs: " + why + ". To compare with NFS, run `bash bench/nfs-peer.sh install` as root (Debian), "
          + "or pass --nfs-peer to let the runner install it");
      log.println("nfs: not measured: " + why);
      return;
    }
    // The peer runs in a process of its own, after the others: its repetitions follow each other.
    List<Workload> repeated = new ArrayList<>();
    List<String> files = new ArrayList<>();
    for (Workload w : workloads) {
      for (int rep = 1; rep <= s.repeat(); rep++) {
        String file = w.file();
        if (w.writes()) {
          file = "scratch/" + runId + "-" + ++scratchFiles + "-" + w.name() + "-nfs.bin";
          fixture.create(file, w.file(), w.fileBytes());
        }
        repeated.add(w);
        files.add(file);
      }
    }
    try (NfsPeer peer = NfsPeer.start(nfsScript, fixture.export(), nfsMode == NfsMode.REQUIRED)) {
      WorkerSpec spec = new WorkerSpec("workloads", "nfs", null, null, peer.host(), peer.exportPath(), s.cacheBytes(),
          s.blockSize(), repeated, files, s.seed(), 1, false, 0, 0);
      try (ClientProcess worker = ClientProcess.start("nfs-client", spec, peer.execPrefix(), resultsDir.resolve("logs"))) {
        List<Result> each = worker.report(600L * s.repeat()).results();
        for (int i = 0; i < each.size(); i++) {
          results.add(each.get(i).withRepeat(i % s.repeat() + 1));
        }
      }
    } finally {
      for (int i = 0; i < repeated.size(); i++) {
        if (repeated.get(i).writes()) {
          fixture.delete(files.get(i));
        }
      }
    }
  }

  private FuseProbe.Plan fusePlan() {
    return new FuseProbe.Plan(mountJar, s.fioBytes(), s.fioSeconds(), s.cacheBytes(), s.repeat(), resultsDir.resolve("logs"));
  }

  /**
   * fio on the FUSE mount beside the local file system. Like the NFS peer it needs what may not be
   * here (fio, the fuse device and programs, the mount jar): without it, or when the mount or fio fails,
   * the run goes on and says why under "skipped". Only a wrong byte read back through the mount fails it.
   */
  private void fuse() throws IOException, InterruptedException {
    FuseProbe.Plan plan = fusePlan();
    String why = FuseMount.unavailable(mountJar);
    if (why != null) {
      progress.skip(plan.steps());
      skipOnce("fuse: " + why);
      log.println("fuse: not measured: " + why);
      return;
    }
    // The local file beside the export, on the same file system as the server's files where it is here.
    Path localParent = fixture.export() != null ? fixture.export().toAbsolutePath().getParent()
        : Path.of(System.getProperty("java.io.tmpdir"));
    try {
      results.addAll(FuseProbe.measure(plan, fixture, localParent, "fio-" + runId + ".bin", this::step));
    } catch (CellRunner.WrongDataException e) {
      throw e;
    } catch (IOException e) {
      skipOnce("fuse: " + Failure.describe(e));
      log.println("fuse: not measured: " + Failure.describe(e));
    }
  }

  /** {@code clients} processes with their own caches running the Zipf workload on the one file, released together. */
  private void multiClient(Workload zipf) throws IOException, InterruptedException {
    Workload w = zipf.named(MULTI);
    for (int rep = 1; rep <= s.repeat(); rep++) {
      for (Config c : List.of(Config.CACHED, Config.UNCACHED)) {
        if (configs.contains(c)) {
          results.add(multiClient(w, c, rep).withRepeat(rep));
        }
      }
    }
  }

  private Result multiClient(Workload w, Config c, int rep) throws IOException, InterruptedException {
    List<ClientProcess> procs = new ArrayList<>();
    try {
      for (int i = 0; i < s.clients(); i++) {
        WorkerSpec spec = new WorkerSpec("workloads", c.label(), fixture.server().toString(), secretText(), null, null,
            s.cacheBytes(), s.blockSize(), List.of(w), List.of(w.file()), s.seed() + 1000L * i, s.clients(), true, 0, 0);
        procs.add(ClientProcess.start(MULTI + "-" + c.label() + "-" + rep + "-" + i, spec, List.of(),
            resultsDir.resolve("logs")));
      }
      for (ClientProcess p : procs) {
        p.awaitReady(300);
      }
      for (ClientProcess p : procs) {
        p.go();
      }
      List<Result> each = new ArrayList<>();
      for (ClientProcess p : procs) {
        each.addAll(p.report(120).results());
      }
      return aggregate(w, c, each);
    } finally {
      procs.forEach(ClientProcess::close);
    }
  }

  private String secretText() {
    return fixture.secret() == null ? null : new String(fixture.secret(), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The clients ran at once: throughputs add up; latencies are the worst client's. */
  static Result aggregate(Workload w, Config c, List<Result> each) {
    long ops = each.stream().mapToLong(Result::ops).sum();
    long bytes = each.stream().mapToLong(Result::bytes).sum();
    double seconds = each.stream().mapToDouble(Result::seconds).max().orElse(0);
    java.util.Map<String, Long> cache = new java.util.LinkedHashMap<>();
    for (Result r : each) {
      r.cache().forEach((k, v) -> cache.merge(k, v, Long::sum));
    }
    return new Result(w.name(), c.label(), each.size(), 1, w.ioSize(), w.fileBytes(), ops, bytes, seconds,
        each.stream().mapToDouble(Result::mbPerSec).sum(), each.stream().mapToDouble(Result::opsPerSec).sum(),
        each.stream().mapToDouble(Result::p50Us).max().orElse(0), each.stream().mapToDouble(Result::p99Us).max().orElse(0),
        each.stream().mapToDouble(Result::p999Us).max().orElse(0), each.stream().allMatch(Result::verified), cache,
        each.size() + " client processes, each with its own cache, on one file; throughput summed, latencies the worst client's");
  }

  private PingPong pingPong() throws IOException, InterruptedException {
    fixture.createZeroed(PINGPONG, 4096);
    List<ClientProcess> players = new ArrayList<>();
    long first = Long.MAX_VALUE;
    long last = 0;
    List<Double> waits = new ArrayList<>();
    long recalls = 0;
    try {
      for (int p = 0; p < 2; p++) {
        WorkerSpec spec = new WorkerSpec("pingpong", "cached", fixture.server().toString(), secretText(), null, null,
            Math.max(1L << 20, 16L * s.blockSize()), s.blockSize(), List.of(), List.of(PINGPONG), s.seed(), 2, false, p,
            s.pingPongTurns());
        players.add(ClientProcess.start("pingpong-" + p, spec, List.of(), resultsDir.resolve("logs")));
      }
      for (ClientProcess p : players) {
        WorkerReport r = p.report(120);
        waits.addAll(r.turnMicros());
        recalls += r.recalls();
        first = Math.min(first, r.firstTurnMicros());
        last = Math.max(last, r.lastTurnMicros());
      }
    } finally {
      players.forEach(ClientProcess::close);
    }
    // From the first turn to the last: the players' JVM start-up is not part of the exchange.
    double seconds = (last - first) / 1e6;
    long counter = ByteBuffer.wrap(fixture.read(PINGPONG, 8)).getLong();
    if (counter != 2L * s.pingPongTurns()) {
      throw new CellRunner.WrongDataException("ping-pong: the counter is " + counter + " after " + 2 * s.pingPongTurns() + " turns");
    }
    double[] w = waits.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new PingPong(w.length, w[w.length / 2] / 1e3, w[Math.min(w.length - 1, (int) (w.length * 0.99))] / 1e3,
        w.length / seconds, recalls, true);
  }

  private void sweeps() throws IOException {
    Workload zipf = standard(s).stream().filter(w -> w.name().equals(Ratios.ZIPF)).findFirst().orElseThrow();
    Workload seq = standard(s).stream().filter(w -> w.name().equals(Ratios.SEQ)).findFirst().orElseThrow();
    boolean on = selected.test("sweeps") && configs.contains(Config.CACHED);
    // Each sweep's points round-robin, as the configurations do.
    for (int rep = 1; rep <= s.repeat(); rep++) {
      for (int b : s.sweepBlockSizes()) {
        step("sweep block " + (b >> 10) + " KiB" + repetition(rep));
        if (on) {
          results.add(cell(Config.CACHED, zipf, cacheConfig().withBlockSize(b), "sweep-block-" + (b >> 10) + "k")
              .withNote("Zipf 4 KiB reads, hot set fits; block size " + (b >> 10) + " KiB").withRepeat(rep));
        }
      }
    }
    for (int rep = 1; rep <= s.repeat(); rep++) {
      for (long c : s.sweepCacheBytes()) {
        step("sweep cache " + (c >> 20) + " MiB" + repetition(rep));
        if (on) {
          results.add(cell(Config.CACHED, zipf, cacheConfig().withCapacity(c).withSlabBytes(Math.min(c, 64L << 20)),
              "sweep-cache-" + (c >> 20) + "m").withNote("Zipf 4 KiB reads over " + (s.fitsBytes() >> 20) + " MiB; cache "
                  + (c >> 20) + " MiB").withRepeat(rep));
        }
      }
    }
    if (s.sweepReadAhead()) {
      for (int rep = 1; rep <= s.repeat(); rep++) {
        for (boolean ra : new boolean[] {true, false}) {
          step("sweep read-ahead " + (ra ? "on" : "off") + repetition(rep));
          if (on) {
            results.add(cell(Config.CACHED, seq, cacheConfig().withReadAhead(ra), "sweep-readahead-" + (ra ? "on" : "off"))
                .withNote("cold sequential 1 MiB reads; read-ahead " + (ra ? "on" : "off")).withRepeat(rep));
          }
        }
      }
    }
  }
}
