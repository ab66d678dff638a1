package org.cachedafs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * fio on the FUSE mount end to end, on small sizes (about 15 s): a real mount process from the mount
 * jar on a fresh export, fio's jobs round-robin over the three targets, the ratios, and nothing left
 * behind: no mount, no mount process, no file on the export. Runs wherever the mount can (fio, the
 * fuse device and programs, libfuse2 and the jar, which the reactor builds before these tests);
 * elsewhere it is skipped, saying why. Without them the runner goes on and says so.
 */
class FuseProbeTest {
  static final Path JAR = Path.of("..", "posixapi", "target", "dafs-mount.jar");

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void fioRunsOnTheMountBesideTheLocalFileSystemAndTheMountIsGoneAfterwards(@TempDir Path tmp) throws Exception {
    String why = FuseMount.unavailable(JAR);
    Assumptions.assumeTrue(why == null, "fio on the FUSE mount cannot run here, skipped: " + why);
    Path export = Files.createDirectories(tmp.resolve("export"));
    Path results = tmp.resolve("results");
    try (DafsServer server = DafsServer.start(ServerOptions.of(export))) {
      BenchRunnerTest.Run r = BenchRunnerTest.run("--server", server.uri().toString(), "--quick", "--only", "fuse", "--repeat", "2",
          "--fio-seconds", "0.3", "--large-mib", "4", "--fits-mib", "4", "--transport-mib", "16", "--mount-jar", JAR.toString(),
          "--results", results.toString());
      assertEquals(0, r.exit(), r.all());
      assertTrue(r.out().contains("bench: fio-seq-read-1m / fuse-uncached (2 of 2)\n"), r.out());
      try (java.util.stream.Stream<Path> left = Files.list(export)) {
        assertEquals(List.of(), left.toList(), "the fio file and the runner's files are gone from the export");
      }
    }
    assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains("dafs-bench-mnt-"), "no mount left behind");
    assertTrue(ProcessHandle.current().descendants().noneMatch(p -> p.info().commandLine().orElse("").contains("dafs-mount")),
        "no mount process left behind");

    JsonNode json = new ObjectMapper().readTree(results.resolve("results.json").toFile());
    BenchRunnerTest.assertMatchesSchema(json);
    List<String> order = new ArrayList<>();
    json.get("results").forEach(x -> {
      order.add(x.get("workload").asText() + "/" + x.get("config").asText() + "/" + x.get("repeat").asInt());
      assertTrue(x.get("ops").asLong() > 0 && x.get("opsPerSec").asDouble() > 0 && x.get("p50Us").asDouble() > 0, x.toString());
    });
    List<String> expected = new ArrayList<>();
    for (String w : List.of(FuseProbe.RAND, FuseProbe.SEQ)) {
      for (int rep = 1; rep <= 2; rep++) {
        for (String t : FuseProbe.TARGETS) {
          expected.add(w + "/" + t + "/" + rep);
        }
      }
    }
    assertEquals(expected, order, "the targets take turns within each repetition");
    for (String ratio : List.of("fuse_cached_vs_local_rand4k", "fuse_cached_vs_uncached_rand4k", "fuse_cached_vs_local_seq1m",
        "fuse_cached_vs_uncached_seq1m")) {
      JsonNode x = json.get("ratios").get(ratio);
      assertEquals(2, x.get("repeats").asInt(), ratio + " over both repetitions: " + x);
      assertTrue(x.get("goal").isNull(), ratio + " is a figure");
    }
    assertFalse(json.get("skipped").toString().contains("fuse"), json.get("skipped").toString());
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void withoutTheMountJarTheRunnerSaysSoAndGoesOn(@TempDir Path tmp) throws Exception {
    Path results = tmp.resolve("results");
    BenchRunnerTest.Run r = BenchRunnerTest.run("--quick", "--only", "fuse", "--work-dir", tmp.toString(), "--large-mib", "4",
        "--fits-mib", "4", "--transport-mib", "16", "--mount-jar", tmp.resolve("none.jar").toString(), "--results",
        results.toString());
    assertEquals(0, r.exit(), r.all());
    assertTrue(r.out().contains("not measured: fuse: no mount jar at "), r.out());
    JsonNode json = new ObjectMapper().readTree(results.resolve("results.json").toFile());
    assertTrue(json.get("ratios").get("fuse_cached_vs_local_rand4k").get("value").isNull());
    BenchRunnerTest.assertMatchesSchema(json);
  }
}
