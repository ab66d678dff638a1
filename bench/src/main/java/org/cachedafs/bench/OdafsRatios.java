package org.cachedafs.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * The ODAFS figures (docs/odafs.md), from the probes against a server in a process of its own: on
 * shm, against the goals of the issue that brought ODAFS; on tcp, as figures (there the transport's
 * receive thread serves each one-sided read, so the server's CPU per read cannot reach zero). Each
 * ratio is taken within a repetition, of the two read paths measured one after the other against the
 * same server process.
 */
final class OdafsRatios {
  private OdafsRatios() {}

  static Map<String, Ratio> compute(List<List<ServerCpuProbe>> cpu, List<List<ServerThroughputProbe>> throughput,
      List<List<StalenessProbe>> staleness, int clients) {
    Map<String, Ratio> r = new LinkedHashMap<>();
    for (String t : List.of("tcp", "shm")) {
      r.put(t + "_server_cpu_per_direct_read_us", Ratio.figure(each(cpu, p -> p.transport().equals(t) && !p.optimistic(),
          ServerCpuProbe::cpuMicrosPerRead), "server process CPU µs per 4 KiB READ_DIRECT over " + t
          + ", the server in its own process (all its threads)", missing(t)));
      r.put(t + "_odafs_server_cpu_per_read_us", Ratio.figure(each(cpu, p -> p.transport().equals(t) && p.optimistic(),
          ServerCpuProbe::cpuMicrosPerRead), "server process CPU µs per 4 KiB ODAFS read over " + t + " (hot exported cache)",
          missing(t)));
    }
    String cpuWhat = "server CPU per 4 KiB read, ODAFS / RPC READ_DIRECT, hot server cache, server in its own process";
    String p50What = "p50 of a random 4 KiB read, ODAFS / RPC READ_DIRECT, hot server cache, one client";
    String tputWhat = "reads/s of " + clients + " client processes, ODAFS / RPC READ_DIRECT, server pinned to one CPU";
    r.put("odafs_vs_rpc_server_cpu_per_read", paired(cpu, "shm", ServerCpuProbe::transport, ServerCpuProbe::optimistic,
        ServerCpuProbe::cpuMicrosPerRead, 0.05, false, cpuWhat + " (shm)"));
    r.put("odafs_vs_rpc_rand4k_p50", paired(cpu, "shm", ServerCpuProbe::transport, ServerCpuProbe::optimistic,
        ServerCpuProbe::p50Micros, 0.5, false, p50What + " (shm)"));
    r.put("odafs_vs_rpc_server_throughput", paired(throughput, "shm", ServerThroughputProbe::transport,
        ServerThroughputProbe::optimistic, ServerThroughputProbe::readsPerSecond, 1.5, true, tputWhat + " (shm)"));
    r.put("tcp_odafs_vs_rpc_server_cpu_per_read", paired(cpu, "tcp", ServerCpuProbe::transport, ServerCpuProbe::optimistic,
        ServerCpuProbe::cpuMicrosPerRead, null, false, cpuWhat + " (tcp)"));
    r.put("tcp_odafs_vs_rpc_rand4k_p50", paired(cpu, "tcp", ServerCpuProbe::transport, ServerCpuProbe::optimistic,
        ServerCpuProbe::p50Micros, null, false, p50What + " (tcp)"));
    r.put("tcp_odafs_vs_rpc_server_throughput", paired(throughput, "tcp", ServerThroughputProbe::transport,
        ServerThroughputProbe::optimistic, ServerThroughputProbe::readsPerSecond, null, true, tputWhat + " (tcp)"));
    for (String t : List.of("tcp", "shm")) {
      r.put(t + "_odafs_server_throughput_reads_per_s", Ratio.figure(each(throughput, p -> p.transport().equals(t) && p.optimistic(),
          ServerThroughputProbe::readsPerSecond), tputWhat.replace(", ODAFS / RPC READ_DIRECT", " by ODAFS") + " (" + t + ")",
          "not measured in this run"));
      r.put(t + "_rpc_server_throughput_reads_per_s", Ratio.figure(each(throughput, p -> p.transport().equals(t) && !p.optimistic(),
          ServerThroughputProbe::readsPerSecond), tputWhat.replace(", ODAFS / RPC READ_DIRECT", " by READ_DIRECT") + " (" + t + ")",
          "not measured in this run"));
    }
    for (double level : StalenessProbe.LEVELS) {
      String pct = Long.toString(Math.round(level * 100));
      r.put("odafs_served_share_stale_" + pct + "pct", Ratio.figure(each(staleness, p -> p.staleness() == level,
          StalenessProbe::servedShare), "share of random 4 KiB reads the exported cache served, with " + pct
          + "% of the blocks rewritten just before their read", "not measured in this run"));
      r.put("odafs_fallback_share_stale_" + pct + "pct", Ratio.figure(each(staleness, p -> p.staleness() == level,
          StalenessProbe::fallbackShare), "share of those reads that fell back to RPC, with " + pct + "% rewritten",
          "not measured in this run"));
    }
    return r;
  }

  private static String missing(String transport) {
    return "not measured in this run (needs the uncached" + (transport.equals("shm") ? "-shm" : "") + " configuration)";
  }

  /** One value a repetition, of the probes {@code which} selects. */
  private static <P> List<Double> each(List<List<P>> reps, java.util.function.Predicate<P> which, ToDoubleFunction<P> value) {
    List<Double> out = new ArrayList<>();
    for (List<P> rep : reps) {
      rep.stream().filter(which).forEach(p -> out.add(value.applyAsDouble(p)));
    }
    return out;
  }

  /** Per repetition, the ODAFS probe's value over the RPC probe's, on {@code transport}. */
  private static <P> Ratio paired(List<List<P>> reps, String transport, Function<P, String> transportOf,
      java.util.function.Predicate<P> optimistic, ToDoubleFunction<P> value, Double goal, boolean atLeast, String what) {
    List<Double> ratios = new ArrayList<>();
    for (List<P> rep : reps) {
      Double odafs = null;
      Double rpc = null;
      for (P p : rep) {
        if (transportOf.apply(p).equals(transport)) {
          if (optimistic.test(p)) {
            odafs = value.applyAsDouble(p);
          } else {
            rpc = value.applyAsDouble(p);
          }
        }
      }
      if (odafs != null && rpc != null && rpc > 0) {
        ratios.add(odafs / rpc);
      }
    }
    if (goal == null) {
      return Ratio.figure(ratios, what, "not measured in this run (needs the " + transport + " transport)");
    }
    return Ratio.of(ratios, goal, atLeast, what);
  }
}
