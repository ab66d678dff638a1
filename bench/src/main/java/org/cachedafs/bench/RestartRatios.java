package org.cachedafs.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The restart figures (docs/consistency.md, "Server restart"), from the {@link RestartProbe}: no goals,
 * figures. {@code restart_pause_ms} is over every restart of the run (its value the median, its max
 * the worst); each {@code reclaim_ms_N_clients} over the runs of the probe.
 */
final class RestartRatios {
  private RestartRatios() {}

  static Map<String, Ratio> compute(List<RestartProbe> probes) {
    Map<String, Ratio> r = new LinkedHashMap<>();
    List<Double> pauses = new ArrayList<>();
    probes.forEach(p -> pauses.addAll(p.pauseMillis()));
    r.put("restart_pause_ms", Ratio.figure(pauses, "the longest operation (a 4 KiB write through the cache and an fsync) of an application"
        + " across a kill -9 and restart of the server in its own process, ms: median and max over the restarts", "not measured in this run"));
    for (int n : RestartProbe.CLIENTS) {
      List<Double> each = new ArrayList<>();
      probes.forEach(p -> {
        Double v = p.reclaimMillis().get(n);
        if (v != null) {
          each.add(v);
        }
      });
      r.put("reclaim_ms_" + n + (n == 1 ? "_client" : "_clients"), Ratio.figure(each, "from the restarted server listening until " + n
          + (n == 1 ? " client" : " clients") + ", each with " + RestartProbe.FILES_PER_CLIENT
          + " opens, WRITE delegations and locks, had reclaimed them and written through an open from before, ms", "not measured in this run"));
    }
    return r;
  }
}
