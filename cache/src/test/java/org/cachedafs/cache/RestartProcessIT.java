package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server restarts with the server, and each client, in a process of its own, the server killed with
 * -9 and started again on the same export, address and state directory:
 *
 * <ul>
 *   <li>mid-workload ({@link RestartWorkload}): two applications read and write through their caches,
 *       fsyncing now and then, through three restarts; they see no error, every read matches what they
 *       wrote, and at the end each file holds every write the application saw succeed, also those that
 *       were only in its cache when the server died;
 *   <li>reclaim conflicts: during grace a client the server did not know waits, and goes on when grace
 *       ends; a client that comes back after grace is told why, and its unwritten bytes are reported
 *       lost, not dropped in silence.
 * </ul>
 * Leases are short (1.5 s), so each takes seconds.
 */
class RestartProcessIT {
  static final long LEASE_MS = 1500;

  @TempDir Path tmp;
  Path export;
  Path state;
  int port;
  ManagedProcess server;
  final List<ManagedProcess> clients = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (ManagedProcess c : clients) {
      c.close();
    }
    if (server != null) {
      server.close();
    }
  }

  void startServer(long graceMillis) throws Exception {
    if (port == 0) {
      export = Files.createDirectories(tmp.resolve("export"));
      state = tmp.resolve("state");
      try (ServerSocket free = new ServerSocket(0)) {
        port = free.getLocalPort();
      }
    }
    List<String> args = new ArrayList<>(List.of("--export", export.toString(), "--listen", "tcp://127.0.0.1:" + port,
        "--state-dir", state.toString(), "--lease-ms", Long.toString(LEASE_MS)));
    if (graceMillis >= 0) {
      args.addAll(List.of("--grace-ms", Long.toString(graceMillis)));
    }
    server = ManagedProcess.server(args);
  }

  URI uri() {
    return server.listeningUri();
  }

  ManagedProcess client(Class<?> main, List<String> args) throws Exception {
    // The session's reconnects, restarts and reclaims in the test's output.
    ManagedProcess c = ManagedProcess.client(main, List.of("-Dorg.slf4j.simpleLogger.log.org.cachedafs.client=info"), args);
    clients.add(c);
    return c;
  }

  @Test
  void restartMidWorkload() throws Exception {
    startServer(-1); // grace: two leases, or until both clients have reclaimed
    RestartWorkload.prepare(export);
    ManagedProcess a = client(RestartClientMain.class, List.of(uri().toString(), "app-a", "a.dat", "shared", "1"));
    ManagedProcess b = client(RestartClientMain.class, List.of(uri().toString(), "app-b", "b.dat", "shared", "2"));
    RestartWorkload.run(a, b, export, () -> {
      server.kill();
      startServer(-1);
    });
  }

  @Test
  void aNewcomerWaitsForGraceAndALateClientIsToldWhatItLost() throws Exception {
    long graceMs = 4000;
    startServer(graceMs);
    ManagedProcess late = client(CacheClientMain.class, List.of(uri().toString()));
    ManagedProcess back = client(CacheClientMain.class, List.of(uri().toString()));
    assertTrue(late.ok("open x.dat").contains("writeback=true"));
    late.ok("write x.dat 0 UNFLUSHED");
    assertTrue(back.ok("open y.dat").contains("writeback=true"));
    back.ok("write y.dat 0 kept");
    assertTrue(late.ok("stats").contains("dirty=1"), "only in late's cache");
    late.signal("STOP"); // away for the whole grace period, and longer

    server.kill();
    startServer(graceMs);
    long restarted = System.nanoTime();
    // back is known and comes back at once: it reclaims, and its cached bytes stay good.
    assertEquals("ok data kept", back.ok("read y.dat 0 4"));
    // A client that held nothing before the restart: its open waits until grace ends (late never reclaims).
    ManagedProcess newcomer = client(CacheClientMain.class, List.of(uri().toString()));
    assertTrue(newcomer.ok("open z.dat").startsWith("ok opened"));
    long waited = (System.nanoTime() - restarted) / 1_000_000;
    assertTrue(waited >= graceMs - 300, "the newcomer's open waited for grace to end: it went on " + waited + " ms after the restart");
    assertTrue(waited < graceMs + 5000, "and not much longer: " + waited + " ms");
    System.out.printf("newcomer's open went on %d ms after the restart (grace %d ms)%n", waited, graceMs);

    late.signal("CONT"); // comes back after grace: its reclaim is refused
    String lost;
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (ManagedProcess.field(lost = late.ok("losses"), "lost") == 0) {
      if (System.nanoTime() > deadline) {
        // In the failure itself: a second execution of the class overwrites the first one's output file.
        fail("late never learnt it lost its bytes: " + lost + "; its output: " + late.all + "; its threads:\n" + late.threads());
      }
      Thread.sleep(100);
    }
    assertEquals("UNFLUSHED".length(), ManagedProcess.field(lost, "lost"), lost);
    String read = late.call("read x.dat 0 9");
    assertTrue(read.startsWith("error IO") && read.contains("NO_GRACE") && read.contains("lost"), "the loss is reported, naming why: " + read);
    String next = late.call("read x.dat 0 9");
    assertTrue(next.startsWith("error NO_GRACE") && next.contains("restarted"), "then the session's end, naming why: " + next);
    assertFalse(new String(Files.readAllBytes(export.resolve("x.dat")), StandardCharsets.UTF_8).contains("UNFLUSHED"));
    back.ok("close y.dat");
    assertEquals("kept", Files.readString(export.resolve("y.dat")), "back's bytes, cached across the restart, reached the disk");
  }
}
