package org.cachedafs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NFS configuration end to end on small sizes: NFS-Ganesha started by bench/nfs-peer.sh in its
 * network namespace, exporting the runner's export, read and written by the Java NFSv3 client in a
 * JVM inside the namespace, every byte checked, then the peer stopped. Runs wherever the peer's setup
 * is present (`.ci/run` installs it); elsewhere it is skipped, saying why.
 */
class NfsPeerTest {
  static final Path SCRIPT = Path.of("nfs-peer.sh");

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void theRunnerMeasuresTheNfsPeerOnTheSameFiles(@TempDir Path tmp) throws Exception {
    String why = NfsPeer.unavailable(SCRIPT);
    Assumptions.assumeTrue(why == null, "NFS peer not set up here, skipped: " + why
        + " (run `bash bench/nfs-peer.sh install` as root on Debian; .ci/run does)");
    Path results = tmp.resolve("results");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    int exit = BenchMain.execute(new PrintStream(console, true, StandardCharsets.UTF_8),
        BenchRunnerTest.small(tmp, results, "--nfs-script", SCRIPT.toString(), "--configs", "uncached,cached,nfs", "--repeat", "2", "--only",
            "seq-read-cold,seq-write,rand-read-uniform-large,rand-read-zipf-fits,rand-write,mix-70r-30w-zipf"));
    String out = console.toString(StandardCharsets.UTF_8);
    System.out.println(out);
    assertEquals(0, exit, out);

    JsonNode json = new ObjectMapper().readTree(results.resolve("results.json").toFile());
    Set<String> nfs = new HashSet<>();
    Set<String> repeats = new HashSet<>();
    json.get("results").forEach(r -> {
      if (r.get("config").asText().equals("nfs")) {
        nfs.add(r.get("workload").asText());
        repeats.add(r.get("workload").asText() + "/" + r.get("repeat").asInt());
        assertTrue(r.get("verified").asBoolean() && r.get("ops").asLong() > 0, r.toString());
      }
    });
    assertEquals(Set.of("seq-read-cold", "seq-write", "rand-read-uniform-large", "rand-read-zipf-fits", "rand-write",
        "mix-70r-30w-zipf"), nfs);
    assertEquals(2 * nfs.size(), repeats.size(), "each NFS workload twice, numbered: " + repeats);
    for (String ratio : List.of("uncached_vs_nfs_rand4k_p50", "uncached_vs_nfs_rand4k_ops", "seq_read_vs_nfs",
        "cached_vs_nfs_zipf")) {
      assertFalse(json.get("ratios").get(ratio).get("value").isNull(), ratio + " measured: " + json.get("ratios").get(ratio));
      assertEquals(2, json.get("ratios").get(ratio).get("repeats").asInt(), ratio + " over both repetitions");
    }
    BenchRunnerTest.assertMatchesSchema(json);

    // The peer is gone afterwards: no daemons, no namespace.
    Process status = new ProcessBuilder("bash", SCRIPT.toString(), "status").redirectErrorStream(true).start();
    assertTrue(status.waitFor(30, TimeUnit.SECONDS));
    assertTrue(status.exitValue() != 0, "the peer was stopped");
  }
}
