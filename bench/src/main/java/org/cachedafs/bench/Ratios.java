package org.cachedafs.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * The ratios the project's targets are stated in, from one run's measurements. A ratio of two
 * configurations pairs their repetitions by number: repetition 2 of one ran next to repetition 2 of
 * the other, so a drift of the machine meets both sides of each pair alike.
 */
final class Ratios {
  static final String SEQ = "seq-read-cold";
  static final String ZIPF = "rand-read-zipf-fits";
  static final String RAND_LARGE = "rand-read-uniform-large";
  static final String RAND_WRITE = "rand-write";
  static final String DB = "database-tpcb";

  private Ratios() {}

  static Map<String, Ratio> compute(RunRecord run) {
    Map<String, Ratio> r = new LinkedHashMap<>();
    // The runner measures the hot set first, then the large one.
    HitProbe hot = run.hitPath().isEmpty() ? null : run.hitPath().get(0);
    HitProbe large = run.hitPath().size() < 2 ? null : run.hitPath().get(1);
    r.put("hit_vs_kernel_4k", hot == null ? Ratio.missing(3.0, true, "kernel 4 KiB read / cached hit, hot set", "no hit probe")
        : rounds(hot.kernelOverCached(), 3, true, "kernel 4 KiB FileChannel.read ns / cached facade pread ns, "
            + (hot.setBytes() >> 20) + " MiB set (spread over the probe's rounds)"));
    r.put("hit_vs_kernel_4k_large", large == null
        ? Ratio.missing(1.0, true, "kernel 4 KiB read / cached hit, large set", "no large hit probe")
        : rounds(large.kernelOverCached(), 1, true, "kernel 4 KiB FileChannel.read ns / cached facade pread ns, "
            + (large.setBytes() >> 20) + " MiB set (spread over the probe's rounds)"));
    r.put("hit_over_floor_4k", hot == null ? Ratio.missing(1.3, false, "cached hit / floor", "no hit probe")
        : rounds(hot.cachedOverFloor(), 1.3, false,
            "cached facade pread ns / (ConcurrentHashMap lookup + 4 KiB copy) ns (spread over the probe's rounds)"));
    r.put("cached_vs_uncached_zipf", ratio(run, ZIPF, "cached", "uncached", Result::opsPerSec, 10, true,
        "cached / uncached ops/s, Zipf 4 KiB reads, hot set fits the cache"));
    r.put("seq_read_cold_cached_vs_uncached", ratio(run, SEQ, "cached", "uncached", Result::mbPerSec, 1.2, true,
        "cached / uncached MB/s, cold sequential 1 MiB reads"));
    r.put("rand_write_cached_vs_uncached", ratio(run, RAND_WRITE, "cached", "uncached", Result::opsPerSec, 5, true,
        "cached / uncached ops/s, uniform random 4 KiB writes (and the final fsync)"));
    double raw = run.reference() == null ? Double.NaN : run.reference().transportGBps() * 1000;
    List<Double> seq = byRepeat(run, SEQ, "cached").values().stream().map(c -> c.mbPerSec() / raw).toList();
    r.put("cold_seq_vs_raw_transport", seq.isEmpty()
        ? Ratio.missing(0.7, true, "cached cold sequential read / raw transport", "not measured")
        : Ratio.of(seq, 0.7, true, "cached cold sequential read MB/s / raw transport MB/s (measured once)"));
    r.put("db_cached_vs_local", ratio(run, DB, "cached", "local", Result::opsPerSec, 0.8, true, "H2 TPC-B tx/s, cached / local"));
    r.put("db_cached_vs_uncached", ratio(run, DB, "cached", "uncached", Result::opsPerSec, 3, true,
        "H2 TPC-B tx/s, cached / uncached"));
    r.put("recall_roundtrip_ms", run.pingPong() == null
        ? Ratio.missing(null, false, "median ping-pong turn, ms", "no ping-pong")
        : Ratio.figure(run.pingPong().medianMs(),
            "median wait of a ping-pong turn: the open that recalls the other client's delegation, ms (a time, not a ratio)"));
    r.put("uncached_vs_nfs_rand4k_p50", ratio(run, RAND_LARGE, "uncached", "nfs", Result::p50Us, 0.8, false,
        "uncached / NFS p50 latency, uniform random 4 KiB reads"));
    r.put("uncached_vs_nfs_rand4k_ops", ratio(run, RAND_LARGE, "uncached", "nfs", Result::opsPerSec, 1.25, true,
        "uncached / NFS ops/s, uniform random 4 KiB reads"));
    r.put("seq_read_vs_nfs", ratio(run, SEQ, "cached", "nfs", Result::mbPerSec, 4, true,
        "cached (read-ahead) / NFS MB/s, cold sequential 1 MiB reads"));
    r.put("seq_read_uncached_vs_nfs", ratio(run, SEQ, "uncached", "nfs", Result::mbPerSec, 4, true,
        "uncached / NFS MB/s, cold sequential 1 MiB reads"));
    r.put("cached_vs_nfs_zipf", ratio(run, ZIPF, "cached", "nfs", Result::opsPerSec, 100, true,
        "cached / NFS ops/s, Zipf 4 KiB reads, hot set fits the cache"));
    // The shm transport: uncached small reads against the kernel's own page cache and against tcp,
    // and sequential reads against what memory can copy at all.
    r.put("shm_uncached_rand4k_p50_vs_kernel", ratio(run, RAND_LARGE, "uncached-shm", "local", Result::p50Us, 5, false,
        "uncached over shm / local FileChannel p50 µs, uniform 4 KiB reads, file larger than the cache"));
    r.put("shm_vs_tcp_uncached_rand4k_p50", ratio(run, RAND_LARGE, "uncached-shm", "uncached", Result::p50Us, 0.1, false,
        "uncached over shm / uncached over tcp p50 µs, uniform 4 KiB reads"));
    r.put("shm_seq_read_vs_memcpy", againstMemcpy(run, SEQ, "uncached-shm", 0.5,
        "uncached over shm MB/s, cold sequential reads / 64 MiB memory copy MB/s"));
    // ODAFS through the uncached door against the embedded server (which shares the runner's CPUs,
    // so the server-side gains show in OdafsRatios, not here).
    r.put("odafs_shm_vs_uncached_shm_zipf_p50", paired(run, ZIPF, "odafs-shm", "uncached-shm", Result::p50Us, null, false,
        "odafs-shm / uncached-shm p50 µs, Zipf 4 KiB reads, embedded server"));
    r.put("odafs_vs_uncached_zipf_p50", paired(run, ZIPF, "odafs", "uncached", Result::p50Us, null, false,
        "odafs / uncached p50 µs (tcp), Zipf 4 KiB reads, embedded server"));
    // Unmodified fio on the FUSE mount (FuseProbe): figures, with no goal.
    r.put("fuse_cached_vs_local_rand4k", paired(run, FuseProbe.RAND, FuseProbe.CACHED, FuseProbe.LOCAL, Result::opsPerSec, null,
        true, "fio random 4 KiB reads/s, FUSE mount through its cache / local file system through the page cache"));
    r.put("fuse_cached_vs_uncached_rand4k", paired(run, FuseProbe.RAND, FuseProbe.CACHED, FuseProbe.UNCACHED, Result::opsPerSec,
        null, true, "fio random 4 KiB reads/s on the FUSE mount, through its cache / O_DIRECT (direct=1, every read to the server)"));
    r.put("fuse_cached_vs_local_seq1m", paired(run, FuseProbe.SEQ, FuseProbe.CACHED, FuseProbe.LOCAL, Result::mbPerSec, null, true,
        "fio sequential 1 MiB reads MB/s, FUSE mount through its cache / local file system through the page cache"));
    r.put("fuse_cached_vs_uncached_seq1m", paired(run, FuseProbe.SEQ, FuseProbe.CACHED, FuseProbe.UNCACHED, Result::mbPerSec,
        null, true, "fio sequential 1 MiB reads MB/s on the FUSE mount, through its cache / O_DIRECT (direct=1)"));
    return r;
  }

  /** A configuration's MB/s per repetition over the run's large memory-copy bandwidth. */
  private static Ratio againstMemcpy(RunRecord run, String workload, String config, double goal, String what) {
    Map<Integer, Result> a = byRepeat(run, workload, config);
    if (a.isEmpty() || run.reference() == null) {
      return Ratio.missing(goal, true, what, config + " was not measured for " + workload);
    }
    double memcpyMBps = run.reference().memcpyLargeGBps() * 1000;
    return Ratio.of(a.values().stream().map(x -> x.mbPerSec() / memcpyMBps).toList(), goal, true, what);
  }

  private static Ratio rounds(Spread s, double goal, boolean atLeast, String what) {
    return new Ratio(s.median(), s.min(), s.max(), s.count(), goal, atLeast, atLeast ? s.median() >= goal : s.median() <= goal,
        what, null);
  }

  /** One configuration's single-client records of a workload, by repetition. */
  private static Map<Integer, Result> byRepeat(RunRecord run, String workload, String config) {
    Map<Integer, Result> m = new TreeMap<>();
    for (Result x : run.results()) {
      if (x.workload().equals(workload) && x.config().equals(config) && x.clients() == 1) {
        m.putIfAbsent(Math.max(1, x.repeat()), x);
      }
    }
    return m;
  }

  private static Ratio ratio(RunRecord run, String workload, String num, String den, ToDoubleFunction<Result> f, double goal,
      boolean atLeast, String what) {
    return paired(run, workload, num, den, f, goal, atLeast, what);
  }

  /** Per repetition, {@code num}'s figure over {@code den}'s; a null goal makes it a figure with no goal. */
  private static Ratio paired(RunRecord run, String workload, String num, String den, ToDoubleFunction<Result> f, Double goal,
      boolean atLeast, String what) {
    Map<Integer, Result> a = byRepeat(run, workload, num);
    Map<Integer, Result> b = byRepeat(run, workload, den);
    if (a.isEmpty() || b.isEmpty()) {
      String missing = a.isEmpty() ? num : den;
      String why = missing + " was not measured for " + workload + (missing.equals("nfs") ? " (no NFS peer in this run)" : "");
      return Ratio.missing(goal, atLeast, what, why);
    }
    List<Double> each = new ArrayList<>();
    a.forEach((rep, x) -> {
      Result y = b.get(rep);
      if (y != null) {
        each.add(f.applyAsDouble(x) / f.applyAsDouble(y));
      }
    });
    return goal == null ? Ratio.figure(each, what, "no repetition measured both") : Ratio.of(each, goal, atLeast, what);
  }
}
