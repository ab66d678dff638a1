package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault rig itself: its hosts reach the server and nothing else does; each fault does what it
 * says, both ways, and is undone; the server comes back on its address after {@code kill -9}; and the
 * rig leaves nothing behind, whether it is closed, its JVM exits without closing it, or its JVM is
 * killed (the next rig sweeps it). Fails, rather than skips, where no rig can be made. Runs with
 * {@code -Pfaults}.
 */
@Tag("rig")
@Tag("faults")
class FaultRigIT {
  /** What {@code timeout 3 bash -c '</dev/tcp/...'} exits with: connected, refused, or no answer at all. */
  static final int CONNECTED = 0;
  static final int REFUSED = 1;
  static final int SILENCE = 124;

  @TempDir Path tmp;

  static int connect(FaultRig rig, FaultRig.Host from, String address, int port) throws Exception {
    Process p = rig.exec(from, List.of("bash", "-c", "timeout 3 bash -c '</dev/tcp/" + address + "/" + port + "' 2>&1"));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    if (!out.isEmpty()) {
      System.out.println(from + " -> " + address + ":" + port + ": " + out);
    }
    return p.exitValue();
  }

  static Process sink(FaultRig rig, FaultRig.Host on, int port) throws Exception {
    Process p = rig.exec(on, FaultRig.java(List.of(), RigProbeMain.class.getName(), "sink", on.address(), Integer.toString(port)));
    String first = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
    assertEquals("listening", first);
    return p;
  }

  /** Milliseconds to send {@code bytes} from {@code from} to a sink at {@code to}. */
  static long send(FaultRig rig, FaultRig.Host from, FaultRig.Host to, int port, int bytes) throws Exception {
    Process p = rig.exec(from, FaultRig.java(List.of(), RigProbeMain.class.getName(), "send", to.address(), Integer.toString(port),
        Integer.toString(bytes)));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "send failed: " + out);
    return Long.parseLong(out.split(" ")[3]);
  }

  static List<String> namespaces(String run) throws Exception {
    Process p = new ProcessBuilder("ip", "netns", "list").start();
    List<String> out = new ArrayList<>();
    for (String l : new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
      if (l.startsWith(run + "-")) {
        out.add(l.split(" ")[0]);
      }
    }
    p.waitFor();
    return out;
  }

  static List<Long> pidsIn(String namespace) throws Exception {
    Process p = new ProcessBuilder("ip", "netns", "pids", namespace).start();
    List<Long> out = new ArrayList<>();
    for (String l : new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
      if (!l.isBlank()) {
        out.add(Long.parseLong(l.strip()));
      }
    }
    p.waitFor();
    return out;
  }

  /** Gone, or a zombie (the machine's init reaps orphans only now and then). */
  static boolean gone(long pid) throws IOException {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    if (!Files.exists(stat)) {
      return true;
    }
    try {
      String s = Files.readString(stat);
      return s.substring(s.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException vanished) {
      return true;
    }
  }

  @Test
  void everyClientReachesTheServerAndAPartitionCutsOneClientBothWaysUntilHealed() throws Exception {
    try (FaultRig rig = FaultRig.start(3)) {
      FaultRig.Server server = rig.startServer(Files.createDirectories(tmp.resolve("export")), 3000);
      for (int i = 1; i <= 3; i++) {
        assertEquals(CONNECTED, connect(rig, rig.client(i), rig.server().address(), FaultRig.SERVER_PORT), "c" + i + " reaches the server");
      }
      sink(rig, rig.client(1), 7001);
      assertEquals(CONNECTED, connect(rig, rig.server(), rig.client(1).address(), 7001), "the server reaches c1");

      rig.partition(rig.client(1));
      rig.partition(rig.client(1)); // idempotent
      assertEquals(SILENCE, connect(rig, rig.client(1), rig.server().address(), FaultRig.SERVER_PORT), "c1 hears nothing, as on a real network");
      assertEquals(SILENCE, connect(rig, rig.server(), rig.client(1).address(), 7001), "nor does the server hear c1");
      assertEquals(CONNECTED, connect(rig, rig.client(2), rig.server().address(), FaultRig.SERVER_PORT), "the others are not cut off");

      rig.heal(rig.client(1));
      rig.heal(rig.client(1)); // idempotent
      assertEquals(CONNECTED, connect(rig, rig.client(1), rig.server().address(), FaultRig.SERVER_PORT));
      assertEquals(CONNECTED, connect(rig, rig.server(), rig.client(1).address(), 7001));
      server.stop();
    }
  }

  @Test
  void aSlowLinkIsSlowBothWaysAndFastAgainAfter() throws Exception {
    int bytes = 256 << 10; // 2 Mbit: one second at 2 Mbit/s
    try (FaultRig rig = FaultRig.start(2)) {
      sink(rig, rig.server(), 7002);
      sink(rig, rig.client(2), 7002);
      long up = send(rig, rig.client(2), rig.server(), 7002, bytes);
      assertTrue(up < 700, "unlimited: " + up + " ms");
      rig.slow(rig.client(2), "2mbit");
      long slowUp = send(rig, rig.client(2), rig.server(), 7002, bytes);
      long slowDown = send(rig, rig.server(), rig.client(2), 7002, bytes);
      long other = send(rig, rig.client(1), rig.server(), 7002, bytes);
      assertTrue(slowUp >= 800 && slowUp < 5000, "2 Mbit up at 2 Mbit/s: " + slowUp + " ms");
      assertTrue(slowDown >= 800 && slowDown < 5000, "and down: " + slowDown + " ms");
      assertTrue(other < 700, "another client's link is not slowed: " + other + " ms");
      rig.fast(rig.client(2));
      long fast = send(rig, rig.client(2), rig.server(), 7002, bytes);
      assertTrue(fast < 700, "fast again: " + fast + " ms");
    }
  }

  @Test
  void aServerKilledAndRestartedServesOnTheSameAddressAndExport() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    try (FaultRig rig = FaultRig.start(1)) {
      FaultRig.Server server = rig.startServer(export, 3000);
      server.kill();
      assertEquals(REFUSED, connect(rig, rig.client(1), rig.server().address(), FaultRig.SERVER_PORT), "nothing listens after kill -9");
      server.restart();
      Process c = rig.exec(rig.client(1), FaultRig.java(List.of("-Dcachedafs.transport=tcp"), RemoteClientMain.class.getName(),
          rig.serverUri().toString(), new String(rig.secret(), StandardCharsets.UTF_8)));
      String out = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      assertEquals("ok", out, "a client of another host is served by the restarted server");
      assertTrue(Files.exists(export.resolve("from-another-host")));
      server.stop();
    }
  }

  @Test
  void closingTheRigEndsWhatRunsInItAndDeletesItsHosts() throws Exception {
    FaultRig rig = FaultRig.start(2);
    Process sleeper = rig.exec(rig.client(2), List.of("sleep", "600"));
    assertEquals(4, namespaces(rig.name()).size(), "wire, server and two clients");
    rig.close();
    assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS), "what ran in a host is ended");
    assertEquals(List.of(), namespaces(rig.name()));
    rig.close(); // idempotent
  }

  @Test
  void aJvmThatExitsWithoutClosingItsRigLeavesNothing() throws Exception {
    Path name = tmp.resolve("name");
    Process jvm = new ProcessBuilder(FaultRig.java(List.of(), RigProbeMain.class.getName(), "rig-then-exit", name.toString()))
        .redirectErrorStream(true).start();
    String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(jvm.waitFor(60, TimeUnit.SECONDS) && jvm.exitValue() == 0, out);
    String run = Files.readString(name);
    assertEquals(List.of(), namespaces(run), "the shutdown hook deleted " + run);
  }

  @Test
  void aRigLeftByAKilledJvmIsSweptByTheNextRig() throws Exception {
    Path name = tmp.resolve("name");
    Process jvm = new ProcessBuilder(FaultRig.java(List.of(), RigProbeMain.class.getName(), "rig-then-wait", name.toString()))
        .redirectErrorStream(true).redirectOutput(tmp.resolve("out").toFile()).start();
    for (int i = 0; i < 600 && (!Files.exists(name) || Files.size(name) == 0); i++) {
      Thread.sleep(100);
    }
    String run = Files.readString(name);
    List<Long> sleeping = pidsIn(run + "-c1");
    assertEquals(1, sleeping.size(), "the sleep it started in c1");
    jvm.destroyForcibly(); // SIGKILL: no shutdown hook runs
    assertTrue(jvm.waitFor(30, TimeUnit.SECONDS));
    assertEquals(3, namespaces(run).size(), "the killed JVM's rig (wire, server, one client) is still there");
    try (FaultRig next = FaultRig.start(1)) {
      assertEquals(List.of(), namespaces(run), "swept at the next rig's start");
      assertTrue(gone(sleeping.get(0)), "and what ran in it was ended");
      assertEquals(3, namespaces(next.name()).size());
    }
  }
}
