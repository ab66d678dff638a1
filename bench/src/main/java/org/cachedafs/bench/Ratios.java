package org.cachedafs.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The ratios the project's targets are stated in, from one run's measurements. */
final class Ratios {
  static final String SEQ = "seq-read-cold";
  static final String ZIPF = "rand-read-zipf-fits";
  static final String RAND_LARGE = "rand-read-uniform-large";
  static final String DB = "database-tpcb";

  private Ratios() {}

  static Map<String, Ratio> compute(RunRecord run) {
    Map<String, Ratio> r = new LinkedHashMap<>();
    // The runner measures the hot set first, then the large one.
    HitProbe hot = run.hitPath().isEmpty() ? null : run.hitPath().get(0);
    HitProbe large = run.hitPath().size() < 2 ? null : run.hitPath().get(1);
    r.put("hit_vs_kernel_4k", hot == null ? Ratio.missing(3.0, true, "kernel 4 KiB read / cached hit, hot set", "no hit probe")
        : Ratio.of(hot.kernelNs(), hot.cachedNs(), 3, true, "kernel 4 KiB FileChannel.read ns / cached facade pread ns, "
            + (hot.setBytes() >> 20) + " MiB set"));
    r.put("hit_vs_kernel_4k_large", large == null
        ? Ratio.missing(1.0, true, "kernel 4 KiB read / cached hit, large set", "no large hit probe")
        : Ratio.of(large.kernelNs(), large.cachedNs(), 1, true, "kernel 4 KiB FileChannel.read ns / cached facade pread ns, "
            + (large.setBytes() >> 20) + " MiB set"));
    r.put("hit_over_floor_4k", hot == null ? Ratio.missing(1.3, false, "cached hit / floor", "no hit probe")
        : Ratio.of(hot.cachedNs(), hot.floorNs(), 1.3, false, "cached facade pread ns / (ConcurrentHashMap lookup + 4 KiB copy) ns"));
    r.put("cached_vs_uncached_zipf", ratio(run, ZIPF, "cached", "uncached", Result::opsPerSec, 10, true,
        "cached / uncached ops/s, Zipf 4 KiB reads, hot set fits the cache"));
    double raw = run.reference() == null ? Double.NaN : run.reference().transportGBps() * 1000;
    r.put("cold_seq_vs_raw_transport", find(run, SEQ, "cached")
        .map(c -> Ratio.of(c.mbPerSec(), raw, 0.7, true, "cached cold sequential read MB/s / raw transport MB/s"))
        .orElse(Ratio.missing(0.7, true, "cached cold sequential read / raw transport", "not measured")));
    r.put("db_cached_vs_local", ratio(run, DB, "cached", "local", Result::opsPerSec, 0.8, true, "H2 TPC-B tx/s, cached / local"));
    r.put("db_cached_vs_uncached", ratio(run, DB, "cached", "uncached", Result::opsPerSec, 3, true,
        "H2 TPC-B tx/s, cached / uncached"));
    r.put("recall_roundtrip_ms", run.pingPong() == null
        ? Ratio.missing(null, false, "median ping-pong turn, ms", "no ping-pong")
        : Ratio.figure(run.pingPong().medianMs(),
            "median wait of a ping-pong turn: the open that recalls the other client's delegation, ms (a time, not a ratio)"));
    r.put("uncached_vs_nfs_rand4k_p50", ratio(run, RAND_LARGE, "uncached", "nfs", Result::p50Us, 0.3, false,
        "uncached / NFS p50 latency, uniform random 4 KiB reads"));
    r.put("seq_read_vs_nfs", ratio(run, SEQ, "cached", "nfs", Result::mbPerSec, 4, true,
        "cached (read-ahead) / NFS MB/s, cold sequential 1 MiB reads"));
    r.put("seq_read_uncached_vs_nfs", ratio(run, SEQ, "uncached", "nfs", Result::mbPerSec, 4, true,
        "uncached / NFS MB/s, cold sequential 1 MiB reads"));
    r.put("cached_vs_nfs_zipf", ratio(run, ZIPF, "cached", "nfs", Result::opsPerSec, 100, true,
        "cached / NFS ops/s, Zipf 4 KiB reads, hot set fits the cache"));
    return r;
  }

  private static Optional<Result> find(RunRecord run, String workload, String config) {
    return run.results().stream().filter(x -> x.workload().equals(workload) && x.config().equals(config) && x.clients() == 1)
        .findFirst();
  }

  private static Ratio ratio(RunRecord run, String workload, String num, String den,
      java.util.function.ToDoubleFunction<Result> f, double goal, boolean atLeast, String what) {
    Optional<Result> a = find(run, workload, num);
    Optional<Result> b = find(run, workload, den);
    if (a.isEmpty() || b.isEmpty()) {
      String missing = a.isEmpty() ? num : den;
      String why = missing + " was not measured for " + workload + (missing.equals("nfs") ? " (no NFS peer in this run)" : "");
      return Ratio.missing(goal, atLeast, what, why);
    }
    return Ratio.of(f.applyAsDouble(a.get()), f.applyAsDouble(b.get()), goal, atLeast, what);
  }
}
