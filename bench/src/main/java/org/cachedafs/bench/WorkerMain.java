package org.cachedafs.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.client.DafsSession;
import org.cachedafs.posix.DafsPosix;

/**
 * A client process of the runner: multi-client runs, the recall ping-pong, and the NFS configuration
 * (started inside the NFS peer's network namespace). It reads a {@link WorkerSpec} from the file named
 * by its argument, prints {@code READY} and waits for a line on standard input between warm-up and
 * timed part when gated, and ends with one line {@code REPORT <json>}. Logs go to standard error.
 */
public final class WorkerMain {
  static final String READY = "READY";
  static final String REPORT = "REPORT ";

  private WorkerMain() {}

  public static void main(String[] args) throws IOException {
    ObjectMapper json = Json.mapper();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    WorkerReport report;
    try {
      WorkerSpec spec = json.readValue(Path.of(args[0]).toFile(), WorkerSpec.class);
      report = "pingpong".equals(spec.mode()) ? pingPong(spec) : workloads(spec, out);
    } catch (Exception e) {
      e.printStackTrace();
      report = WorkerReport.failed(e);
    }
    out.println(REPORT + json.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
    System.exit(report.error() == null ? 0 : 1);
  }

  private static CacheConfig cacheConfig(WorkerSpec spec) {
    return CacheConfig.defaults().withCapacity(spec.cacheBytes()).withBlockSize(spec.blockSize())
        .withSlabBytes(Math.min(spec.cacheBytes(), 64L << 20));
  }

  private static Target target(WorkerSpec spec) throws IOException {
    byte[] secret = Targets.secretOf(spec.secret());
    switch (Config.of(spec.config())) {
      case NFS:
        return NfsTarget.connect(spec.nfsHost(), spec.nfsExport());
      case CACHED:
        return Targets.facade(URI.create(spec.server()), secret, cacheConfig(spec), false, "tcp");
      case UNCACHED:
        return Targets.facade(URI.create(spec.server()), secret, cacheConfig(spec), true, "tcp");
      default:
        throw new IllegalArgumentException("a worker runs cached, uncached or nfs, not " + spec.config());
    }
  }

  private static WorkerReport workloads(WorkerSpec spec, PrintStream out) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    CellRunner.Gate gate = () -> {
      if (spec.gated()) {
        out.println(READY);
        if (in.readLine() == null) {
          throw new IOException("the runner went away");
        }
      }
    };
    warmUp(spec);
    List<Result> results = new ArrayList<>();
    for (int i = 0; i < spec.workloads().size(); i++) {
      Workload w = spec.workloads().get(i);
      try (Target t = target(spec)) {
        Result r = CellRunner.run(t, w, spec.files().get(i), null, spec.seed(), spec.clients(), gate);
        results.add(r);
      }
    }
    return WorkerReport.of(results);
  }

  /**
   * A fresh JVM runs its first measurement in the interpreter, which the runner's own JVM, warmed by
   * the earlier configurations, does not. So the worker first runs short, untimed versions of its
   * read workloads (on their own files, which they do not change) for about a second.
   */
  private static void warmUp(WorkerSpec spec) throws IOException {
    for (int i = 0; i < spec.workloads().size(); i++) {
      Workload w = spec.workloads().get(i);
      if (w.writes()) {
        continue;
      }
      Workload brief = new Workload(w.name(), w.op(), w.access() == Workload.Access.SEQUENTIAL ? Workload.Access.UNIFORM : w.access(),
          w.zipfSkew(), w.ioSize(), w.file(), w.fileBytes(), w.readFraction(), false, 0.25, false);
      try (Target t = target(spec)) {
        CellRunner.run(t, brief, spec.files().get(i), null, spec.seed() - 1, 1);
      }
    }
  }

  /**
   * Two players take turns writing a counter into one file through their caches. A player whose turn
   * it is not waits a little and looks again; every look is an open for writing, which recalls the
   * other player's delegation, so each turn's wait is a recall round trip: the other flushes its
   * write, returns, and this open is granted.
   */
  private static WorkerReport pingPong(WorkerSpec spec) throws IOException {
    List<Double> turns = new ArrayList<>();
    String file = spec.files().get(0);
    try (DafsSession session = Targets.connect(URI.create(spec.server()), Targets.secretOf(spec.secret()), "pingpong-" + spec.player(), "tcp");
        CacheManager cache = CacheManager.create(session, cacheConfig(spec));
        DafsPosix posix = new DafsPosix()) {
      posix.mount("/p", cache);
      byte[] word = new byte[8];
      int done = 0;
      long lastSeen = -1;
      long first = 0;
      long last = 0;
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (done < spec.turns()) {
        if (System.nanoTime() > deadline) {
          throw new IOException("ping-pong stalled after " + done + " turns: player " + spec.player() + " last saw counter "
              + lastSeen + ", " + cache.stats());
        }
        long t0 = System.nanoTime();
        boolean mine;
        int fd = posix.open("/p/" + file, DafsPosix.O_RDWR);
        if (fd < 0) {
          throw Targets.failure(posix, "open", file);
        }
        try {
          if (posix.pread(fd, word, 0, 8, 0) != 8) {
            throw Targets.failure(posix, "pread", file);
          }
          long counter = ByteBuffer.wrap(word).getLong();
          lastSeen = counter;
          long t1 = System.nanoTime();
          mine = counter % 2 == spec.player();
          if (mine) {
            if (first == 0) {
              first = epochMicros() - (t1 - t0) / 1000;
            }
            turns.add((t1 - t0) / 1e3);
            ByteBuffer.wrap(word).putLong(counter + 1);
            if (posix.pwrite(fd, word, 0, 8, 0) != 8) {
              throw Targets.failure(posix, "pwrite", file);
            }
            done++;
            last = epochMicros();
          } else if (counter > 2L * spec.turns()) {
            throw new CellRunner.WrongDataException("counter " + counter + " past the last turn: a write was applied twice");
          }
        } finally {
          posix.close(fd);
        }
        if (!mine) {
          LockSupport.parkNanos(100_000); // let the other player take its turn before this one recalls it again
        }
      }
      return new WorkerReport(List.of(), turns, cache.stats().recalls(), first, last, null);
    }
  }

  private static long epochMicros() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
  }
}
