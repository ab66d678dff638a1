package org.cachedafs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ODAFS ratios pair the two read paths within each repetition, and say what is missing. */
class OdafsRatiosTest {
  @Test
  void eachRepetitionIsPairedWithItselfAndTheMedianJudged() {
    List<List<ServerCpuProbe>> cpu = List.of(
        List.of(new ServerCpuProbe("shm", false, 1000, 40, 20, 0), new ServerCpuProbe("shm", true, 1000, 1, 2, 1)),
        List.of(new ServerCpuProbe("shm", false, 1000, 20, 10, 0), new ServerCpuProbe("shm", true, 1000, 3, 8, 1)),
        List.of(new ServerCpuProbe("shm", false, 1000, 50, 30, 0), new ServerCpuProbe("shm", true, 1000, 0, 3, 1)));
    List<List<ServerThroughputProbe>> tput = List.of(List.of(new ServerThroughputProbe("shm", false, 8, 10_000, 1),
        new ServerThroughputProbe("shm", true, 8, 12_000, 0)));
    Map<String, Ratio> r = OdafsRatios.compute(cpu, tput, List.of(), 8);

    Ratio c = r.get("odafs_vs_rpc_server_cpu_per_read");
    assertEquals(0.025, c.value(), 1e-9); // 1/40, 3/20, 0/50: median 1/40
    assertEquals(0.0, c.min(), 1e-9);
    assertEquals(0.15, c.max(), 1e-9);
    assertTrue(c.met());
    Ratio p50 = r.get("odafs_vs_rpc_rand4k_p50");
    assertEquals(0.1, p50.value(), 1e-9); // 0.1, 0.8, 0.1
    Ratio t = r.get("odafs_vs_rpc_server_throughput");
    assertEquals(1.2, t.value(), 1e-9);
    assertFalse(t.met(), "1.2 is below the goal of 1.5");
  }

  @Test
  void whatWasNotMeasuredSaysSo() {
    Map<String, Ratio> r = OdafsRatios.compute(List.of(), List.of(), List.of(), 8);
    Ratio c = r.get("odafs_vs_rpc_server_cpu_per_read");
    assertNull(c.value());
    assertNull(c.met());
    assertEquals(0.05, c.goal());
    assertTrue(r.get("tcp_odafs_vs_rpc_rand4k_p50").why().contains("tcp"));
    assertTrue(r.get("odafs_served_share_stale_10pct").why().startsWith("not measured"));
  }
}
