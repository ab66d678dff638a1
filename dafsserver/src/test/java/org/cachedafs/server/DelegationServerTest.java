package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.client.Segment;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Region;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delegations through the public API against a real server, in one JVM: the grant policy, recall of
 * each conflicting operation, waiting for the return, revocation at the lease. (The same across
 * separate processes, with kill -9, is {@code DelegationProcessIT} in the cache module.)
 */
class DelegationServerTest {
  static final Duration LEASE = Duration.ofMillis(1500);
  @TempDir Path tmp;
  ServerFixture f;
  DafsSession a;
  DafsSession b;
  /** Recalls that reached a, as delegation ids. */
  BlockingQueue<Long> recalledAtA = new LinkedBlockingQueue<>();
  /** How long a's listener waits before it returns; negative: never. */
  volatile long returnAfterMillis = 0;

  @BeforeEach
  void start() throws Exception {
    f = new ServerFixture(tmp, o -> o.withLease(LEASE));
    a = f.connect();
    b = f.connect();
    a.setRecallListener((id, handle) -> {
      recalledAtA.add(id);
      if (returnAfterMillis >= 0) {
        CompletableFuture.delayedExecutor(returnAfterMillis, TimeUnit.MILLISECONDS).execute(() -> a.returnDelegationAsync(id, handle));
      }
    });
    b.setRecallListener((id, handle) -> b.returnDelegationAsync(id, handle));
    Files.writeString(f.export.resolve("file"), "original");
  }

  @AfterEach
  void stop() {
    f.close();
  }

  OpenFile holdWrite() throws Exception {
    OpenFile o = a.open(a.root(), "file", OpenMode.readWrite());
    assertTrue(o.hasWriteDelegation(), "alone with the file: a WRITE delegation");
    return o;
  }

  /** Runs b's operation while a holds a delegation; a returns after 300 ms; the operation waits for it. */
  long timeConflict(ThrowingRunnable op) throws Exception {
    returnAfterMillis = 300;
    long t0 = System.nanoTime();
    op.run();
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(1, recalledAtA.size(), "a recall reached the holder");
    assertTrue(took >= 280, "the conflicting request waited for the return: " + took + " ms");
    assertTrue(took < LEASE.toMillis(), "and went on as soon as it was back: " + took + " ms");
    return took;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void grantPolicy() throws Exception {
    OpenFile w = holdWrite();
    assertEquals(w.delegationId(), a.open(a.root(), "file", OpenMode.read()).delegationId(), "the same delegation again");
    OpenFile other = b.open(b.root(), "file", OpenMode.read());
    assertEquals(1, recalledAtA.size(), "b's read recalled a's WRITE delegation");
    assertFalse(other.hasDelegation(), "a still has the file open for writing: no READ delegation for b");
    a.close(w);
    recalledAtA.clear();

    Files.writeString(f.export.resolve("shared"), "x");
    OpenFile ra = a.open(a.root(), "shared", OpenMode.read());
    OpenFile rb = b.open(b.root(), "shared", OpenMode.read());
    assertEquals(Replies.Opened.DELEGATION_READ, ra.delegation());
    assertEquals(Replies.Opened.DELEGATION_READ, rb.delegation(), "READ delegations coexist");
    assertTrue(recalledAtA.isEmpty());

    DafsSession plain = f.connect(); // no recall listener: nothing to cache, so it asks for none
    assertFalse(plain.open(plain.root(), "shared", OpenMode.read()).hasDelegation());
    Files.writeString(f.export.resolve("solo"), "y");
    assertFalse(a.open(a.root(), "solo", OpenMode.readWrite().noDelegation()).hasDelegation(), "a client may refuse");
  }

  @Test
  void aConflictingOpenWaitsForTheReturn() throws Exception {
    holdWrite();
    timeConflict(() -> b.open(b.root(), "file", OpenMode.read()));
  }

  @Test
  void truncateAndSetattrRecall() throws Exception {
    holdWrite();
    var h = b.lookup(b.root(), "file").handle();
    timeConflict(() -> b.setattr(h, null, SetAttributes.size(0)));
    assertEquals(0, Files.size(f.export.resolve("file")));
  }

  @Test
  void getattrRecallsAWriteDelegation() throws Exception {
    holdWrite();
    var h = b.lookup(b.root(), "file").handle();
    timeConflict(() -> b.getattr(h));
  }

  @Test
  void removeRecalls() throws Exception {
    holdWrite();
    timeConflict(() -> b.remove(b.root(), "file"));
    assertFalse(Files.exists(f.export.resolve("file")));
  }

  @Test
  void renameOfTheFileRecalls() throws Exception {
    holdWrite();
    timeConflict(() -> b.rename(b.root(), "file", b.root(), "moved"));
  }

  @Test
  void renameOntoTheFileRecalls() throws Exception {
    holdWrite();
    Files.writeString(f.export.resolve("other"), "replacement");
    timeConflict(() -> b.rename(b.root(), "other", b.root(), "file"));
    assertEquals("replacement", Files.readString(f.export.resolve("file")));
  }

  @Test
  void renamingADirectoryRecallsTheDelegationsBelowIt() throws Exception {
    Files.createDirectories(f.export.resolve("dir/sub"));
    Files.writeString(f.export.resolve("dir/sub/deep"), "x");
    OpenFile o = a.open(a.lookup(a.root(), "dir/sub").handle(), "deep", OpenMode.readWrite());
    assertTrue(o.hasWriteDelegation());
    timeConflict(() -> b.rename(b.root(), "dir", b.root(), "renamed")); // a may cache the path to its file
    assertTrue(Files.exists(f.export.resolve("renamed/sub/deep")));
  }

  @Test
  void anExclusiveLockRecallsAReadDelegation() throws Exception {
    OpenFile r = a.open(a.root(), "file", OpenMode.read());
    assertEquals(Replies.Opened.DELEGATION_READ, r.delegation());
    // b's read open does not conflict with a READ delegation; its write lock does.
    returnAfterMillis = 300;
    OpenFile bo = b.open(b.root(), "file", OpenMode.read());
    assertTrue(recalledAtA.isEmpty(), "reading alongside a READ delegation is fine");
    b.lock(bo, new LockRange(0, 1, false));
    assertTrue(recalledAtA.isEmpty(), "so is a shared lock");
    // A write lock needs a write open, and that open is what recalls.
    timeConflict(() -> b.open(b.root(), "file", OpenMode.readWrite()));
  }

  @Test
  void aHolderThatNeverReturnsIsRevokedAtTheLeaseAndItsLateWriteFails() throws Exception {
    OpenFile held = holdWrite();
    returnAfterMillis = -1;
    long t0 = System.nanoTime();
    OpenFile theirs = b.open(b.root(), "file", OpenMode.readWrite().truncate());
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(took >= LEASE.toMillis() - 20, "waited for the lease: " + took + " ms");
    assertTrue(took < LEASE.toMillis() + 1500, "and then went on: " + took + " ms");
    b.write(theirs, 0, ByteBuffer.wrap("NEW OWNER".getBytes(StandardCharsets.UTF_8)));
    b.close(theirs);

    DafsException late = assertThrows(DafsException.class, () -> a.write(held, 0, ByteBuffer.wrap("stale data!".getBytes(StandardCharsets.UTF_8))));
    assertEquals(Status.DELEG_REVOKED, late.status());
    assertEquals(Status.DELEG_REVOKED, assertThrows(DafsException.class, () -> a.read(held, 0, ByteBuffer.allocate(4))).status());
    try (Region r = a.allocate(8)) {
      assertEquals(Status.DELEG_REVOKED, assertThrows(DafsException.class, () -> a.readDirect(held, 0, r, 0, 4)).status());
      assertEquals(Status.DELEG_REVOKED, assertThrows(DafsException.class, () -> a.readDirectV(held, 0, List.of(new Segment(r, 0, 4)))).status());
    }
    assertEquals(Status.DELEG_REVOKED, assertThrows(DafsException.class, () -> a.returnDelegation(held.delegationId(), held.handle())).status());
    assertEquals("NEW OWNER", Files.readString(f.export.resolve("file")));
    assertEquals(1, f.server.stats().revocations());
    a.close(held); // closing a revoked open still works
  }

  @Test
  void aHolderThatStopsRenewingLosesItsDelegationWhenItsLeaseEnds() throws Exception {
    try (RawClient silent = new RawClient(f.server.address())) {
      assertEquals(Status.OK, silent.handshake(new byte[0]));
      silent.send(silent.request(Opcode.OPEN, new Requests.Open(silent.root, "file", 3, 0, 0, 0644), 0, 1));
      var reply = silent.readMessage();
      var h = RawClient.decodeHeader(reply);
      Replies.Opened opened = (Replies.Opened) RawClient.decodeBody(h, reply);
      assertEquals(Replies.Opened.DELEGATION_WRITE, opened.delegation());
      long t0 = System.nanoTime();
      // It neither renews nor answers the recall: b's open goes on when the silent session expires.
      b.open(b.root(), "file", OpenMode.read());
      long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(took >= LEASE.toMillis() - 300, "not before the lease ran out: " + took + " ms");
    }
  }

  @Test
  void aWaitingOpenWhoseSessionEndsLeavesNothingBehind() throws Exception {
    OpenFile held = holdWrite();
    returnAfterMillis = -1;
    CompletableFuture<OpenFile> waiting = b.openAsync(b.root(), "file", OpenMode.readWrite());
    assertTrue(recalledAtA.poll(10, TimeUnit.SECONDS) != null, "b's open reached the server and waits on the recall");
    b.close(); // b's session ends while its open waits
    assertTrue(assertThrows(java.util.concurrent.ExecutionException.class, waiting::get).getCause() instanceof DafsException);
    // At the lease a's delegation is revoked and b's open would run again: it must not, its session is gone.
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEASE.toMillis() * 3);
    while (f.server.stats().revocations() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(1, f.server.stats().revocations());
    a.close(held);
    DafsSession c = f.connect();
    c.setRecallListener((id, h) -> c.returnDelegationAsync(id, h));
    OpenFile exclusive = c.open(c.root(), "file", OpenMode.readWrite().deny(2));
    assertTrue(exclusive.hasWriteDelegation(), "no phantom open, share reservation or delegation was left by b");
  }

  @Test
  void returningEarlyLetsOthersInAtOnce() throws Exception {
    OpenFile o = holdWrite();
    a.returnDelegation(o.delegationId(), o.handle());
    long t0 = System.nanoTime();
    b.open(b.root(), "file", OpenMode.read());
    assertTrue(recalledAtA.isEmpty());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 1000);
    assertEquals(Status.BAD_STATEID, assertThrows(DafsException.class, () -> a.returnDelegation(o.delegationId(), o.handle())).status());
  }
}
