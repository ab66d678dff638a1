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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.client.RecallListener;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Courtesy sessions: a client whose link to the server goes silent for longer than its lease (a proxy
 * that holds everything, as a partition would) keeps everything nobody else wanted meanwhile; what
 * another client does want is taken at once: a delegation is revoked (the session goes on), a lock or
 * share reservation ends the session.
 */
class CourtesySessionTest {
  static final Duration LEASE = Duration.ofMillis(1000);
  @TempDir Path tmp;
  ServerFixture f;
  CuttingProxy proxy;
  /** Cut off by the proxy when it holds. */
  DafsSession a;
  DafsSession b;
  final BlockingQueue<Long> revokedAtA = new LinkedBlockingQueue<>();

  @BeforeEach
  void start() throws Exception {
    f = new ServerFixture(tmp, o -> o.withLease(LEASE));
    proxy = new CuttingProxy(f.server.address());
    a = DafsClient.connect(proxy.uri(), ClientOptions.defaults());
    a.setRecallListener(new RecallListener() {
      @Override
      public void onRecall(long id, FileHandle handle) {
        a.returnDelegationAsync(id, handle);
      }

      @Override
      public void revoked(long id) {
        revokedAtA.add(id);
      }
    });
    b = f.connect();
    b.setRecallListener((id, handle) -> b.returnDelegationAsync(id, handle));
    Files.writeString(f.export.resolve("file"), "original");
  }

  @AfterEach
  void stop() throws Exception {
    a.close();
    proxy.close();
    f.close();
  }

  /** Holds a's link until its lease has surely run out on the server (and a has noticed). */
  void cutPastTheLease() throws Exception {
    proxy.hold();
    Thread.sleep(LEASE.toMillis() * 2);
    assertFalse(a.leaseHeld(), "a knows it has not heard from the server for a lease");
  }

  static ByteBuffer bytes(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aClientSilentPastItsLeaseKeepsWhatNobodyWanted() throws Exception {
    OpenFile held = a.open(a.root(), "file", OpenMode.readWrite());
    assertTrue(held.hasWriteDelegation());
    a.lock(held, new LockRange(0, 4, true));
    cutPastTheLease();
    proxy.release();
    a.write(held, 0, bytes("BACK")); // through its open, under its delegation: nothing was fenced
    a.renew();
    assertTrue(a.leaseHeld(), "heard from the server again");
    assertEquals("BACKinal", Files.readString(f.export.resolve("file")));
    assertEquals(0, f.server.stats().revocations());
    assertTrue(revokedAtA.isEmpty());
    assertTrue(b.testLock(held.handle(), new LockRange(0, 4, true)).isPresent(), "its lock is still held");
    assertEquals(0, a.stats().reconnects(), "the same connection, the same session");
  }

  @Test
  void aConflictWithACourtesySessionsDelegationRevokesItAtOnceAndTheSessionGoesOn() throws Exception {
    OpenFile held = a.open(a.root(), "file", OpenMode.readWrite());
    assertTrue(held.hasWriteDelegation());
    cutPastTheLease();
    long t0 = System.nanoTime();
    OpenFile other = b.open(b.root(), "file", OpenMode.readWrite());
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(took < LEASE.toMillis() / 2, "no recall to wait for: a's lease ran out already (" + took + " ms)");
    b.write(other, 0, bytes("NEW"));
    proxy.release();
    assertEquals(Long.valueOf(held.delegationId()), revokedAtA.poll(10, TimeUnit.SECONDS), "a's renewal tells it of the revocation");
    DafsException late = assertThrows(DafsException.class, () -> a.write(held, 0, bytes("LATE")));
    assertEquals(Status.DELEG_REVOKED, late.status(), "its open of the file is fenced");
    assertEquals("NEWginal", Files.readString(f.export.resolve("file")));
    a.close(held);
    OpenFile again = a.open(a.root(), "file", OpenMode.read());
    ByteBuffer read = ByteBuffer.allocate(8);
    a.read(again, 0, read);
    assertEquals("NEWginal", new String(read.array(), StandardCharsets.UTF_8), "the session goes on, and reads b's bytes");
  }

  @Test
  void aLockWantedFromACourtesySessionEndsIt() throws Exception {
    OpenFile held = a.open(a.root(), "file", OpenMode.readWrite().noDelegation());
    a.lock(held, new LockRange(0, 4, true));
    OpenFile other = b.open(b.root(), "file", OpenMode.readWrite());
    DafsException denied = assertThrows(DafsException.class, () -> b.lock(other, new LockRange(0, 4, true)));
    assertEquals(Status.DENIED, denied.status(), "while a's lease holds, its lock stands");
    cutPastTheLease();
    b.lock(other, new LockRange(0, 4, true)); // a's session is ended for it
    proxy.release();
    DafsException gone = assertThrows(DafsException.class, () -> a.getattr(a.root()));
    assertEquals(Status.BADSESSION, gone.status(), "a lock cannot be taken piecemeal: a's session ended");
  }

  @Test
  void aShareReservationInAnotherClientsWayEndsTheCourtesySession() throws Exception {
    a.open(a.root(), "file", OpenMode.read().deny(Requests.Open.DENY_WRITE).noDelegation());
    DafsException denied = assertThrows(DafsException.class, () -> b.open(b.root(), "file", OpenMode.readWrite()));
    assertEquals(Status.SHARE_DENIED, denied.status());
    cutPastTheLease();
    b.write(b.open(b.root(), "file", OpenMode.readWrite()), 0, bytes("B"));
    assertEquals("Briginal", Files.readString(f.export.resolve("file")));
    proxy.release();
    assertEquals(Status.BADSESSION, assertThrows(DafsException.class, () -> a.getattr(a.root())).status());
  }
}
