package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * The restart-mid-workload case, for a server wherever it runs (a process on loopback,
 * {@code RestartProcessIT}; a host of the fault rig, {@code NetworkFaultIT}): two applications
 * ({@link RestartClientMain}) read and write through their caches, fsyncing now and then, while the
 * server is killed with -9 and started again three times on the same export, address and state
 * directory. They see no error, every read matches what they wrote, their locks on the shared file are
 * reclaimed each time, and at the end each file holds every write the application saw succeed, also
 * those that were only in its cache when the server died.
 */
final class RestartWorkload {
  private RestartWorkload() {}

  /** Kills the server with -9 and starts it again; returns once it listens. */
  @FunctionalInterface
  interface Restart {
    void killAndStart() throws Exception;
  }

  /** The files the applications work on: each its own, and the one they share. */
  static void prepare(Path export) throws Exception {
    for (String f : List.of("a.dat", "b.dat")) {
      Files.write(export.resolve(f), new byte[RestartClientMain.FILE_BYTES]);
    }
    Files.write(export.resolve("shared"), RestartClientMain.sharedContent());
  }

  /** Runs the case with applications {@code a} (on a.dat) and {@code b} (on b.dat). */
  static void run(ManagedProcess a, ManagedProcess b, Path export, Restart restart) throws Exception {
    progress(a, 0, 500);
    progress(b, 0, 500);
    for (int n = 1; n <= 3; n++) {
      Thread.sleep(700); // writes pile up in the caches, some fsynced, most not
      long down = System.nanoTime();
      restart.killAndStart();
      progress(a, ManagedProcess.field(a.ok("stats"), "ops"), 300);
      progress(b, ManagedProcess.field(b.ok("stats"), "ops"), 300);
      String sa = a.ok("stats");
      String sb = b.ok("stats");
      System.out.printf("restart %d: both applications going again %d ms after the kill; a: %s; b: %s%n", n,
          (System.nanoTime() - down) / 1_000_000, sa, sb);
      assertEquals(n, ManagedProcess.field(sa, "restarts"));
      assertEquals(n, ManagedProcess.field(sb, "restarts"));
    }
    assertEquals("ok conflict=true", b.ok("locktest"), "a's shared lock on the shared file was reclaimed each time");
    assertEquals("ok conflict=true", a.ok("locktest"), "and b's");
    for (ManagedProcess c : List.of(a, b)) {
      String stopped = c.ok("stop");
      assertTrue(stopped.contains("error=none"), stopped);
      assertEquals(0, ManagedProcess.field(stopped, "lost"), stopped);
      String file = c == a ? "a.dat" : "b.dat";
      String expected = stopped.substring(stopped.indexOf("sha=") + 4, stopped.indexOf(" ", stopped.indexOf("sha=")));
      assertEquals(expected, sha256(Files.readAllBytes(export.resolve(file))), file + " holds every write the application saw succeed");
      System.out.println(file + ": " + stopped);
    }
    assertEquals(sha256(RestartClientMain.sharedContent()), sha256(Files.readAllBytes(export.resolve("shared"))));
  }

  /** Waits until {@code c}'s workload has done {@code more} operations beyond {@code since}; returns its count. */
  static long progress(ManagedProcess c, long since, long more) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      String stats = c.ok("stats");
      assertEquals(0, ManagedProcess.field(stats, "errors"), "the application saw an error: " + stats + "; " + c.all);
      long ops = ManagedProcess.field(stats, "ops");
      if (ops >= since + more) {
        return ops;
      }
      assertTrue(System.nanoTime() < deadline, "no progress within 60 s: " + stats);
      Thread.sleep(50);
    }
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
