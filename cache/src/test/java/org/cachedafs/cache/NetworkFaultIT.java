package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cachedafs.server.FaultRig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Network faults between a server and caching clients on hosts of their own (the {@link FaultRig}):
 * each client is a process in its own network namespace using the cache through its public API
 * ({@link CacheClientMain}), the server a process in another, reached over the rig's wire. The lease is
 * 3 s so that each case takes seconds. The short partition runs in the default suite; the others, tagged
 * {@code faults}, with {@code -Pfaults} (docs/operations.md).
 */
@Tag("rig")
class NetworkFaultIT {
  static final long LEASE_MS = 3000;

  @TempDir Path tmp;
  Path export;
  FaultRig rig;
  FaultRig.Server server;
  final List<ManagedProcess> clients = new ArrayList<>();

  @BeforeEach
  void startRig() throws Exception {
    export = Files.createDirectories(tmp.resolve("export"));
    rig = FaultRig.start(3);
    server = rig.startServer(export, LEASE_MS);
  }

  @AfterEach
  void stopRig() throws Exception {
    try {
      for (ManagedProcess c : clients) {
        c.close();
      }
    } finally {
      rig.close();
    }
  }

  /** A caching client on host {@code i}, its background flush every {@code flushMillis}. */
  ManagedProcess client(int i, long flushMillis) throws Exception {
    ManagedProcess c = ManagedProcess.client(rig.exec(rig.client(i), FaultRig.java(
        List.of("-Dcachedafs.transport=tcp", "-Dcacheclient.flushMillis=" + flushMillis),
        CacheClientMain.class.getName(), rig.serverUri().toString(), rig.secretFile().toString())));
    clients.add(c);
    return c;
  }

  static long millisSince(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  /**
   * c2's conflicting open, {@code waited} ms after c1 went silent, went ahead once c1's lease ran out and
   * not before: c1 renewed at most a third of a lease before, and the server notices within a quarter
   * of a lease after (the rest is slack for a loaded machine).
   */
  static void assertWaitedForTheLease(long waited) {
    assertTrue(waited >= LEASE_MS * 2 / 3 - 200, "c2 went ahead before c1's lease ran out: " + waited + " ms");
    assertTrue(waited < LEASE_MS * 5 / 4 + 2000, "c2 waited well past c1's lease: " + waited + " ms");
  }

  /** The bytes {@code fill ... SEED} wrote, as the server's disk has them. */
  void assertPatternOnDisk(String name, long offset, int length, int seed) throws Exception {
    byte[] disk = Files.readAllBytes(export.resolve(name));
    assertTrue(disk.length >= offset + length, name + " holds " + disk.length + " bytes, not " + (offset + length));
    for (int i = 0; i < length; i++) {
      if (disk[(int) offset + i] != CacheClientMain.pattern(offset + i, seed)) {
        throw new AssertionError(name + " differs from the pattern of seed " + seed + " at " + (offset + i));
      }
    }
  }

  /**
   * A client with a WRITE delegation and dirty cached data keeps working through a partition of half
   * a lease, as if nothing happened: its writes and reads are served by its cache meanwhile, and after
   * the heal everything it wrote reaches the server intact, with no error on the way.
   */
  @Test
  void aPartitionShorterThanTheLeaseIsInvisibleToTheApplication() throws Exception {
    ManagedProcess c1 = client(1, 1000); // the default background flush: it meets the partition too
    assertEquals("ok opened writeback=true cached=true", c1.ok("open short"));
    int dirty = 256 << 10;
    c1.ok("fill short 0 " + dirty + " 1");
    assertTrue(Files.size(export.resolve("short")) < dirty, "the bytes are dirty in c1's cache");

    rig.partition(rig.client(1));
    long cut = System.nanoTime();
    long worst = 0;
    int rounds = 0;
    while (millisSince(cut) < LEASE_MS / 2) {
      long t0 = System.nanoTime();
      c1.ok("fill short " + (dirty + rounds * 4096) + " 4096 1");
      c1.ok("check short 0 " + (dirty + (rounds + 1) * 4096) + " 1");
      worst = Math.max(worst, millisSince(t0));
      rounds++;
    }
    rig.heal(rig.client(1));
    long healed = System.nanoTime();
    c1.ok("sync short");
    long synced = millisSince(healed);
    c1.ok("close short");
    assertEquals("ok losses lost=0 revocations=0", c1.ok("losses"));
    int total = dirty + rounds * 4096;
    assertEquals(total, Files.size(export.resolve("short")));
    assertPatternOnDisk("short", 0, total, 1);
    System.out.printf("short partition: %d rounds of write+read while cut off, the slowest %d ms; sync after the heal %d ms%n",
        rounds, worst, synced);
    assertTrue(worst < LEASE_MS / 4, "cached writes and reads did not wait for the network: the slowest took " + worst + " ms");
    c1.ok("open short"); // and the session is the same one, still good
  }

  /**
   * A client cut off for longer than its lease loses its delegation to a client whose open conflicts:
   * that open goes ahead once the lease has run out. The cut-off client, while cut off and after the
   * heal, never serves its cached bytes as the file's; its later operations on the file fail loudly;
   * and its unflushed bytes are reported lost (an I/O error to the open, and the lost-bytes counter).
   * It loses nothing else: its session goes on, and a new open reads the other client's bytes.
   */
  @Tag("faults")
  @Test
  void aClientCutOffLongerThanItsLeaseLosesItsDelegationLoudly() throws Exception {
    Files.writeString(export.resolve("long"), "original-content");
    ManagedProcess c1 = client(1, 3_600_000);
    ManagedProcess c2 = client(2, 3_600_000);
    assertEquals("ok opened writeback=true cached=true", c1.ok("open long"));
    c1.ok("write long 0 STALE-C1");
    assertEquals("ok data STALE-C1-content", c1.ok("read long 0 16"));

    rig.partition(rig.client(1));
    long cut = System.nanoTime();
    assertTrue(c2.ok("open long").startsWith("ok opened"));
    assertWaitedForTheLease(millisSince(cut));
    c2.ok("write long 0 NEW-OWNER");
    c2.ok("sync long");
    assertEquals("NEW-OWNERcontent", Files.readString(export.resolve("long")));

    // Still cut off, and past its lease: what c1 has cached is no longer the file. The read may wait for
    // the server (then it is answered after the heal), but it must not be served from the cache.
    assertEquals("ok lease held=false", c1.ok("lease"), "c1 knows it has not heard from the server for a lease, "
        + millisSince(cut) + " ms after the cut");
    c1.send("read long 0 16");
    String whileCut = c1.pollReply(1000);
    assertTrue(whileCut == null || !whileCut.contains("STALE-C1"), "c1 served its stale cache while cut off past its lease: " + whileCut);

    rig.heal(rig.client(1));
    if (whileCut == null) {
      whileCut = c1.reply("read long 0 16");
    }
    assertFalse(whileCut.contains("STALE-C1"), "c1 served its stale cache: " + whileCut);
    List<String> after = new ArrayList<>();
    after.add(c1.call("read long 0 16"));
    after.add(c1.call("write long 0 LATE"));
    after.add(c1.call("sync long"));
    for (String r : after) {
      assertFalse(r.contains("STALE-C1"), "never c1's stale cache: " + after);
    }
    assertTrue(after.get(1).startsWith("error ") || after.get(2).startsWith("error "), "the late write fails loudly: " + after);
    assertTrue(whileCut.contains("were lost") || after.stream().anyMatch(r -> r.contains("were lost")),
        "the open is told its unflushed bytes were lost: " + whileCut + " " + after);
    String losses = c1.ok("losses");
    assertTrue(losses.contains("lost=8 "), "the 8 dirty bytes are counted lost: " + losses);
    assertEquals("NEW-OWNERcontent", Files.readString(export.resolve("long")), "nothing of c1's reached the file");
    // Only what c2 took was lost: c1's session goes on, and a new open of the file reads c2's bytes.
    c1.call("close long");
    assertTrue(c1.ok("open long").startsWith("ok opened"), "c1 opens the file again (recalling c2's delegation)");
    assertEquals("ok data NEW-OWNERcontent", c1.ok("read long 0 16"));
  }

  /**
   * A client killed (SIGKILL) in the middle of writing a large file: the server ends its session once
   * its lease has run out, and another client's conflicting open goes ahead then, and not before.
   */
  @Tag("faults")
  @Test
  void aClientKilledMidWriteIsRevokedAfterItsLeaseAndAnotherGoesOn() throws Exception {
    ManagedProcess c1 = client(1, 1000);
    ManagedProcess c2 = client(2, 3_600_000);
    assertEquals("ok opened writeback=true cached=true", c1.ok("open killed"));
    c1.send("fill killed 0 " + (64 << 20) + " 3"); // four times the cache: written back as it goes
    Path file = export.resolve("killed");
    for (int i = 0; i < 300 && Files.size(file) < (1 << 20); i++) {
      Thread.sleep(20);
    }
    assertTrue(Files.size(file) >= (1 << 20), "c1 is writing back");
    c1.kill();
    long killed = System.nanoTime();
    assertTrue(Files.size(file) < (64 << 20), "killed mid-write");

    assertTrue(c2.ok("open killed").startsWith("ok opened"));
    assertWaitedForTheLease(millisSince(killed));
    c2.ok("fill killed 0 65536 9");
    c2.ok("sync killed");
    c2.ok("check killed 0 65536 9");
    assertPatternOnDisk("killed", 0, 65536, 9);
  }

  /**
   * A slow link makes a well-behaved client slower, not failed: a sync that takes longer than the lease
   * at the link's rate succeeds and keeps the session, and a recall of a delegation with a moderate
   * amount of dirty data completes within the lease, so nothing is revoked.
   */
  @Tag("faults")
  @Test
  void aSlowLinkMakesAClientSlowerNotFailed() throws Exception {
    rig.slow(rig.client(1), "4mbit"); // 500 KB/s
    ManagedProcess c1 = client(1, 3_600_000);
    ManagedProcess c2 = client(2, 3_600_000);
    assertEquals("ok opened writeback=true cached=true", c1.ok("open slow"));
    int big = 2 << 20; // about 4.2 s at 4 Mbit/s: longer than the lease
    c1.ok("fill slow 0 " + big + " 5");
    long t0 = System.nanoTime();
    c1.ok("sync slow");
    long syncMs = millisSince(t0);
    assertTrue(syncMs >= 3000, "the link is slow: " + syncMs + " ms for 2 MiB");
    assertPatternOnDisk("slow", 0, big, 5);

    int dirty = 256 << 10; // about 0.5 s at 4 Mbit/s
    c1.ok("fill slow 0 " + dirty + " 6");
    t0 = System.nanoTime();
    assertTrue(c2.ok("open slow").startsWith("ok opened"));
    long recallMs = millisSince(t0);
    assertTrue(recallMs < LEASE_MS, "the recall completed within the lease: " + recallMs + " ms");
    c2.ok("check slow 0 " + dirty + " 6");
    c2.ok("check slow " + dirty + " " + (big - dirty) + " 5");
    assertEquals("ok losses lost=0 revocations=0", c1.ok("losses"));
    c1.ok("close slow");
    c1.ok("open slow"); // the session lived through it all
    System.out.printf("slow link (4 Mbit/s): sync of 2 MiB %d ms, recall with 256 KiB dirty %d ms%n", syncMs, recallMs);
  }

  /**
   * The server on its host killed with -9 and started again three times, under two applications on
   * hosts of their own reading and writing through their caches ({@link RestartWorkload}): no error,
   * nothing lost, over the rig's wire and the server's own state directory.
   */
  @Test
  @Tag("faults")
  void theServerKilledAndRestartedMidWorkloadLosesNothing() throws Exception {
    RestartWorkload.prepare(export);
    ManagedProcess a = restartClient(1, "app-a", "a.dat", "1");
    ManagedProcess b = restartClient(2, "app-b", "b.dat", "2");
    RestartWorkload.run(a, b, export, () -> {
      server.kill();
      server.restart();
    });
  }

  /** An application of {@link RestartWorkload} on host {@code i}. */
  ManagedProcess restartClient(int i, String name, String file, String seed) throws Exception {
    ManagedProcess c = ManagedProcess.client(rig.exec(rig.client(i), FaultRig.java(
        List.of("-Dcachedafs.transport=tcp", "-Dorg.slf4j.simpleLogger.log.org.cachedafs.client=info"),
        RestartClientMain.class.getName(), rig.serverUri().toString(), name, file, "shared", seed, rig.secretFile().toString())));
    clients.add(c);
    return c;
  }
}
