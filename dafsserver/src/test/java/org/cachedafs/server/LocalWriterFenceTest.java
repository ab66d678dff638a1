package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.cachedafs.client.DafsException;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local-writer fence against real local processes (dd, truncate, perl, mv, rm, a shell holding a
 * descriptor) while a client caches the file under a delegation ({@link DelegatedCopy}): a local open
 * waits until the delegation is back, and the client's next read sees the local bytes; truncate(2) by
 * path, rename and removal recall after the fact; a local open never outlives a stopped fence.
 * Needs root (fanotify's permission events need CAP_SYS_ADMIN); skipped, saying so, without it.
 */
class LocalWriterFenceTest {
  /** Long, so that an open let go by a stopped fence is told apart from one let go by a revocation. */
  static final Duration LEASE = Duration.ofSeconds(10);
  static final String ORIGINAL = "original content, 32 bytes long.";
  @TempDir Path tmp;
  ServerFixture f;
  Path file;

  @BeforeEach
  void start() throws Exception {
    f = new ServerFixture(tmp, o -> o.withLease(LEASE));
    Assumptions.assumeTrue(f.server.localWritersFenced(), "local writers cannot be fenced here (fanotify needs root or CAP_SYS_ADMIN)");
    file = Files.writeString(f.export.resolve("f"), ORIGINAL);
  }

  @AfterEach
  void stop() {
    f.close();
  }

  private String text(byte[] b) {
    return new String(b, StandardCharsets.US_ASCII);
  }

  /** dd writing {@code text} at {@code offset} of the file, in place. */
  private LocalCommand dd(String text, int offset) throws Exception {
    return LocalCommand.start(f.export, "bash", "-c",
        "printf '" + text + "' | dd of=f bs=" + text.length() + " seek=" + offset + " oflag=seek_bytes conv=notrunc status=none");
  }

  /** A client holding a READ delegation on f, with f cached; it returns a recall after {@code returnDelayMillis} (negative: never). */
  private DelegatedCopy cachingClient(long returnDelayMillis) throws Exception {
    DelegatedCopy a = new DelegatedCopy(f.connect(), returnDelayMillis);
    assertTrue(a.open("f", false), "alone with the file: a delegation");
    a.read();
    assertTrue(a.cached());
    return a;
  }

  /** Runs a local command that opens nothing (so nothing could hold it up) and waits for the recall it causes after the fact. */
  private void recallsAfterTheFact(DelegatedCopy a, String... command) throws Exception {
    LocalCommand.Ran r = LocalCommand.run(f.export, 10_000, command);
    assertEquals(0, r.exit(), r.output());
    await("the recall after the fact", () -> !a.recalled.isEmpty() && !a.cached());
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 5 s: " + what);
      Thread.sleep(10);
    }
  }

  @Test
  void aLocalWriteWaitsForTheRecallAndTheClientThenReadsTheLocalBytes() throws Exception {
    DelegatedCopy a = cachingClient(400);
    long recallsBefore = f.server.stats().recalls();

    LocalCommand.Ran dd = dd("LOCAL", 0).await(LEASE.toMillis() + 5000);

    assertEquals(0, dd.exit(), dd.output());
    assertEquals(1, a.recalled.size(), "the local open recalled the delegation");
    assertTrue(dd.millis() >= 350, "dd's open waited for the return (400 ms after the recall): " + dd.millis() + " ms");
    assertTrue(dd.millis() < LEASE.toMillis(), "and went on at the return, not at the lease: " + dd.millis() + " ms");
    assertFalse(a.cached(), "the client dropped its copy at the recall");
    assertEquals("LOCAL" + ORIGINAL.substring(5), text(a.read()), "the client's next read sees the local bytes");
    ServerStats st = f.server.stats();
    assertEquals(recallsBefore + 1, st.recalls());
    assertEquals(1, st.localFence().openWaits(), st.localFence().toString());
    assertEquals(1, st.localFence().recalls(), st.localFence().toString());
    await("dd's close counted", () -> f.server.stats().localFence().localCloses() >= 1);
    assertTrue(a.open("f", false), "with the local writer gone, delegations are granted again");
  }

  @Test
  void aWriteDelegationsUnwrittenBytesLandBeforeTheLocalWrite() throws Exception {
    DelegatedCopy a = new DelegatedCopy(f.connect(), 100);
    assertTrue(a.open("f", true));
    a.writeBehind(0, "CLIENT-BYTES".getBytes(StandardCharsets.US_ASCII)); // in the copy only
    assertEquals(ORIGINAL, Files.readString(file), "not written back yet");

    LocalCommand.Ran dd = dd("LOCAL", 0).await(LEASE.toMillis() + 5000);

    assertEquals(0, dd.exit(), dd.output());
    // Had dd run first, the write-back would have overwritten it: "CLIENT-BYTES...".
    assertEquals("LOCALT-BYTES" + ORIGINAL.substring(12), Files.readString(file), "written back first, then dd's bytes over them");
    assertEquals("LOCALT-BYTES" + ORIGINAL.substring(12), text(a.read()));
  }

  @Test
  void noDelegationWhileALocalProcessHoldsTheFileOpenAndOneAgainAfterItCloses() throws Exception {
    DelegatedCopy a = cachingClient(0); // the server watches the file from its first open
    LocalCommand holder = LocalCommand.start(f.export, "bash", "-c", "exec 3<f; echo opened; sleep 1.5");
    await("the local open counted", () -> f.server.stats().localFence().localOpens() >= 1);
    await("the recall", () -> !a.recalled.isEmpty());
    assertFalse(a.open("f", false), "a process on the host has the file open (maybe to write): no delegation");
    assertEquals(ORIGINAL, text(a.read()), "reads still work, from the server");
    assertFalse(a.cached());

    assertEquals(0, holder.await(10_000).exit());
    await("its close counted", () -> f.server.stats().localFence().localCloses() >= 1);
    assertTrue(a.open("f", false), "the local open is closed: delegations again");
  }

  @Test
  void aLocalTruncateOpensTheFileAndWaitsForTheRecall() throws Exception {
    DelegatedCopy a = cachingClient(200);
    LocalCommand.Ran t = LocalCommand.run(f.export, LEASE.toMillis() + 5000, "truncate", "-s", "3", "f");
    assertEquals(0, t.exit(), t.output());
    assertEquals(1, a.recalled.size());
    assertTrue(t.millis() >= 150, "truncate(1) opens the file, so it waited for the return: " + t.millis() + " ms");
    assertEquals("ori", text(a.read()));
  }

  @Test
  void truncateByPathRecallsAfterTheFact() throws Exception {
    DelegatedCopy a = cachingClient(0);
    // truncate(2) opens nothing: no permission event, only FAN_MODIFY once it is done.
    recallsAfterTheFact(a, "perl", "-e", "truncate('f', 8) or die $!");
    assertEquals("original", text(a.read()));
    assertTrue(f.server.stats().localFence().changesAfterTheFact() >= 1);
  }

  @Test
  void aLocalRenameRecallsAfterTheFact() throws Exception {
    DelegatedCopy a = cachingClient(0);
    recallsAfterTheFact(a, "mv", "f", "g");
    var s = f.connect();
    DafsException e = assertThrows(DafsException.class, () -> s.lookup(s.root(), "f"));
    assertEquals(Status.NOENT, e.status());
    assertEquals(ORIGINAL, text(a.read()), "the open still reads the file, under its new name");
    assertEquals(ORIGINAL.length(), s.lookup(s.root(), "g").attributes().size());
  }

  @Test
  void aLocalRemoveRecallsAfterTheFact() throws Exception {
    DelegatedCopy a = cachingClient(0);
    recallsAfterTheFact(a, "rm", "f");
    var s = f.connect();
    assertEquals(Status.NOENT, assertThrows(DafsException.class, () -> s.lookup(s.root(), "f")).status());
  }

  @Test
  void aWaitingLocalOpenGoesOnWhenTheFencesThreadDies() throws Exception {
    DelegatedCopy a = cachingClient(-1); // never returns: the open would wait the whole lease
    LocalCommand waiting = dd("LOCAL", 0);
    await("the recall", () -> !a.recalled.isEmpty());
    assertTrue(waiting.alive(), "dd waits on the recall");

    ((FanotifyFence) f.server.fence()).failNextEvent(); // as a bug in the fence would
    LocalCommand.Ran cat = LocalCommand.run(f.export, 5000, "cat", "f");
    LocalCommand.Ran dd = waiting.await(5000);

    assertEquals(0, cat.exit(), "the open that met the failure went on: " + cat);
    assertEquals(0, dd.exit(), "the waiting open went on: " + dd);
    assertTrue(dd.millis() < LEASE.toMillis() / 2, "at once, not at the lease: " + dd.millis() + " ms");
    assertFalse(f.server.localWritersFenced(), "the server says local writers are no longer fenced");
    assertEquals(0, LocalCommand.run(f.export, 5000, "cat", "f").exit(), "and later opens are not held up");
  }

  @Test
  void aWaitingLocalOpenGoesOnWhenTheServerCloses() throws Exception {
    DelegatedCopy a = cachingClient(-1);
    LocalCommand waiting = dd("LOCAL", 0);
    await("the recall", () -> !a.recalled.isEmpty());
    Thread.sleep(200);
    assertTrue(waiting.alive(), "dd waits on the recall");

    f.server.close();
    LocalCommand.Ran dd = waiting.await(5000);

    assertEquals(0, dd.exit(), dd.toString());
    assertTrue(dd.millis() < LEASE.toMillis() / 2, "at the close, not at the lease: " + dd.millis() + " ms");
    assertEquals(0, LocalCommand.run(f.export, 5000, "cat", "f").exit());
  }

  @Test
  void turnedOffItSaysSoAndRecallsNothing() throws Exception {
    try (ServerFixture off = new ServerFixture(tmp.resolve("off"), o -> o.withLease(LEASE).withLocalFence(false))) {
      assertFalse(off.server.localWritersFenced());
      Files.writeString(off.export.resolve("f"), ORIGINAL);
      DelegatedCopy a = new DelegatedCopy(off.connect(), 0);
      assertTrue(a.open("f", false));
      a.read();
      LocalCommand.Ran dd = LocalCommand.run(off.export, 10_000, "bash", "-c", "printf LOCAL | dd of=f conv=notrunc status=none");
      assertEquals(0, dd.exit());
      Thread.sleep(300);
      assertTrue(a.recalled.isEmpty());
      assertEquals(ORIGINAL, text(a.read()), "what the fence is for: the copy is stale");
      assertFalse(off.server.stats().localFence().active());
    }
  }
}
