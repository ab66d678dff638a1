package org.cachedafs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * fio on the FUSE mount, without a mount: fio's JSON report as fio 3.33 wrote it (captured from the
 * runner's own command on a local file, in src/test/resources), the fio command each target gets, and
 * the ratios paired within each repetition.
 */
class FuseFiguresTest {
  private static String resource(String name) throws IOException {
    return Files.readString(Path.of("src", "test", "resources", name));
  }

  @Test
  void fiosJsonReportGivesTheReadsTheirRateAndLatencies() throws IOException {
    FioReport r = FioReport.parse(resource("fio-rand-read-4k.json"));
    assertEquals(293147, r.ops());
    assertEquals(1200730112L, r.bytes());
    assertEquals(0.501, r.seconds(), 1e-9); // fio reports ms
    assertEquals(585123.752495, r.opsPerSec(), 1e-6);
    assertEquals(1.256, r.p50Us(), 1e-9); // clat_ns percentiles, in µs
    assertEquals(1.976, r.p99Us(), 1e-9);
    assertEquals(4.256, r.p999Us(), 1e-9);
    Result x = r.toResult(FuseProbe.RAND, FuseProbe.LOCAL, 4096, 8 << 20, "note");
    assertEquals(2396.66689, x.mbPerSec(), 1e-6); // bw_bytes in 10^6 bytes per second, as the runner's records
    assertEquals(1, x.clients());

    FioReport seq = FioReport.parse("fio: a warning before the report\n" + resource("fio-seq-read-1m.json"));
    assertEquals(4301, seq.ops());
    assertEquals(79.36, seq.p50Us(), 1e-9);
  }

  @Test
  void aFailedOrEmptyJobIsAnErrorNotAFigure() throws IOException {
    String ok = resource("fio-rand-read-4k.json");
    assertTrue(assertThrows(IOException.class, () -> FioReport.parse(ok.replaceFirst("\"error\" : 0", "\"error\" : 5")))
        .getMessage().contains("error 5"));
    assertTrue(assertThrows(IOException.class, () -> FioReport.parse(ok.replaceFirst("\"total_ios\" : 293147", "\"total_ios\" : 0")))
        .getMessage().contains("read nothing"));
    assertThrows(IOException.class, () -> FioReport.parse("fio: no such file"));
  }

  @Test
  void onlyTheUncachedTargetOpensWithODirectAndNoTargetDropsItsPageCache() {
    for (String target : FuseProbe.TARGETS) {
      List<String> cmd = FuseProbe.command("fio", FuseProbe.RAND, target, Path.of("/m/f"), 8 << 20, 0.5, Path.of("/r.json"));
      assertTrue(cmd.contains("--direct=" + (target.equals(FuseProbe.UNCACHED) ? 1 : 0)), cmd.toString());
      assertTrue(cmd.containsAll(List.of("--invalidate=0", "--time_based", "--runtime=500ms", "--rw=randread", "--bs=4096",
          "--ioengine=psync", "--output-format=json", "--output=/r.json")), cmd.toString());
    }
    assertTrue(FuseProbe.command("fio", FuseProbe.SEQ, FuseProbe.CACHED, Path.of("f"), 1, 3, Path.of("r"))
        .containsAll(List.of("--rw=read", "--bs=1048576", "--runtime=3000ms")));
  }

  private static Result result(String workload, String config, int rep, double opsPerSec, double mbPerSec) {
    return new Result(workload, config, 1, rep, 4096, 1 << 20, 1, 1, 1, mbPerSec, opsPerSec, 1, 1, 1, true, Map.of(), "")
        .withRepeat(rep);
  }

  private static Map<String, Ratio> ratios(List<Result> results) {
    RunRecord run = new RunRecord(RunRecord.SCHEMA, "", 0, List.of(), "test", null, Map.of(), null, List.of(), null, results, null,
        List.of());
    return Ratios.compute(run);
  }

  @Test
  void eachRepetitionOfTheMountIsDividedByTheSameRepetitionOfItsComparison() {
    List<Result> rs = new ArrayList<>();
    double[][] rand = {{1000, 400, 100}, {900, 600, 300}, {1200, 300, 200}}; // local, cached, uncached ops/s
    double[][] seq = {{4000, 1000, 500}, {2000, 1500, 500}, {5000, 1000, 250}}; // MB/s
    for (int rep = 1; rep <= 3; rep++) {
      for (int t = 0; t < 3; t++) {
        rs.add(result(FuseProbe.RAND, FuseProbe.TARGETS.get(t), rep, rand[rep - 1][t], 0));
        rs.add(result(FuseProbe.SEQ, FuseProbe.TARGETS.get(t), rep, 0, seq[rep - 1][t]));
      }
    }
    Map<String, Ratio> r = ratios(rs);
    Ratio local = r.get("fuse_cached_vs_local_rand4k");
    assertEquals(0.4, local.value(), 1e-9); // 0.4, 0.667, 0.25
    assertEquals(0.25, local.min(), 1e-9);
    assertEquals(600.0 / 900, local.max(), 1e-9);
    assertEquals(3, local.repeats());
    assertNull(local.goal(), "a figure: the issue sets no goal");
    assertNull(local.met());
    Ratio uncached = r.get("fuse_cached_vs_uncached_rand4k");
    assertEquals(2.0, uncached.value(), 1e-9); // 4, 2, 1.5
    assertEquals(1.5, uncached.min(), 1e-9);
    assertEquals(4.0, uncached.max(), 1e-9);
    assertEquals(0.25, r.get("fuse_cached_vs_local_seq1m").value(), 1e-9); // 0.25, 0.75, 0.2
    assertEquals(3.0, r.get("fuse_cached_vs_uncached_seq1m").value(), 1e-9); // 2, 3, 4
  }

  @Test
  void withoutTheMountTheRatiosSayWhatWasNotMeasured() {
    Map<String, Ratio> r = ratios(List.of());
    for (String k : List.of("fuse_cached_vs_local_rand4k", "fuse_cached_vs_uncached_rand4k", "fuse_cached_vs_local_seq1m",
        "fuse_cached_vs_uncached_seq1m")) {
      assertNull(r.get(k).value(), k);
      assertTrue(r.get(k).why().contains("fuse-cached was not measured"), k + ": " + r.get(k).why());
    }
  }

  @Test
  void aMissingMountJarIsReasonEnoughToLeaveFioOut(@org.junit.jupiter.api.io.TempDir Path tmp) {
    String why = FuseMount.unavailable(tmp.resolve("no-such.jar"));
    assertTrue(why != null && why.contains("no mount jar at") && why.contains("--mount-jar"), why);
  }
}
