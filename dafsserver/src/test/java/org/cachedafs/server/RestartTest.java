package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.client.RecallListener;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client library across a server restart, in one JVM: the session finds the new boot verifier,
 * makes a new session under its identity, reclaims its open, lock and delegation under their old ids,
 * and lets the requests it held go, so that the application's {@link OpenFile} works on and a request
 * made while the server was down completes. A client whose reclaim comes too late is told why.
 */
class RestartTest {
  @TempDir Path tmp;
  Path export;
  int port;
  final List<DafsServer> servers = new ArrayList<>();
  final List<DafsSession> sessions = new ArrayList<>();
  final List<Long> revoked = new java.util.concurrent.CopyOnWriteArrayList<>();
  volatile int reclaims;

  @BeforeEach
  void setUp() throws Exception {
    export = Files.createDirectories(tmp.resolve("export"));
  }

  @AfterEach
  void tearDown() {
    sessions.forEach(DafsSession::close);
    servers.forEach(DafsServer::close);
  }

  DafsServer start(Duration grace) throws Exception {
    ServerOptions o = ServerOptions.of(export).withStateDir(tmp.resolve("state")).withLease(Duration.ofSeconds(3)).withGrace(grace);
    DafsServer s = DafsServer.start(port == 0 ? o : o.withListen(new InetSocketAddress("127.0.0.1", port)));
    port = s.address().getPort();
    servers.add(s);
    Assumptions.assumeTrue(s.stats().handles().durable(), "reclaim is by handle, and handles here do not outlive the server");
    return s;
  }

  DafsSession connect(DafsServer s, String name) throws Exception {
    DafsSession c = DafsClient.connect(s.uri(), ClientOptions.defaults().withClientName(name).withRequestTimeout(Duration.ofSeconds(30)));
    sessions.add(c);
    return c;
  }

  /** A session that takes delegations ({@link #listen}). */
  DafsSession caching(DafsServer server, String name) throws Exception {
    DafsSession s = connect(server, name);
    listen(s);
    return s;
  }

  /** A listener that keeps what it is given (a cache would cache under it) and returns on recall. */
  void listen(DafsSession s) {
    s.setRecallListener(new RecallListener() {
      @Override
      public void onRecall(long id, org.cachedafs.protocol.FileHandle handle) {
        s.returnDelegationAsync(id, handle);
      }

      @Override
      public void revoked(long id) {
        revoked.add(id);
      }

      @Override
      public void reclaimed() {
        reclaims++;
      }
    });
  }

  static ByteBuffer bytes(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aSessionRidesThroughARestartWithItsOpenLockAndDelegation() throws Exception {
    DafsServer first = start(Duration.ofSeconds(30));
    DafsSession a = caching(first, "a");
    OpenFile f = a.open(a.root(), "f", OpenMode.readWrite().create(0644));
    assertTrue(f.hasWriteDelegation());
    a.write(f, 0, bytes("hello"));
    a.lock(f, new LockRange(0, 5, true));
    first.close();
    // Made while no server runs: held, and sent once the session has its state back.
    CompletableFuture<Integer> meanwhile = a.writeAsync(f, 5, bytes(" world"));
    Thread.sleep(100);
    assertFalse(meanwhile.isDone());

    DafsServer second = start(Duration.ofSeconds(30));
    assertEquals(6, meanwhile.get(30, TimeUnit.SECONDS), "the write made while the server was down");
    assertEquals(5, a.write(f, 11, bytes("!!!!!")), "the open from before the restart still works");
    assertEquals("hello world!!!!!", Files.readString(export.resolve("f")));
    assertEquals(1, a.stats().serverRestarts());
    assertTrue(a.stats().lastReclaimNanos() > 0);
    ServerStats.Grace g = second.stats().grace();
    assertEquals(1, g.opensReclaimed(), g.toString());
    assertEquals(1, g.locksReclaimed(), g.toString());
    assertEquals(1, g.delegationsReclaimed(), g.toString());
    assertFalse(g.active(), "the one client it knew is back: grace ended");
    assertEquals(1, reclaims);
    assertEquals(List.of(), revoked);

    DafsSession b = connect(second, "b");
    assertEquals(new LockRange(0, 5, true), b.testLock(f.handle(), new LockRange(0, 1, false)).orElseThrow(), "a's lock is back");
    OpenFile read = b.open(b.root(), "f", OpenMode.read());
    ByteBuffer got = ByteBuffer.allocate(32);
    b.read(read, 0, got);
    assertEquals("hello world!!!!!", new String(got.array(), 0, got.position(), StandardCharsets.UTF_8), "b's open recalled a's reclaimed delegation");
    a.close(f);
  }

  @Test
  void aClientThatComesBackAfterGraceIsToldWhy() throws Exception {
    DafsServer first = start(Duration.ofSeconds(30));
    DafsSession a = caching(first, "late");
    OpenFile f = a.open(a.root(), "f", OpenMode.readWrite().create(0644));
    first.close();
    start(Duration.ZERO); // no grace at all: every reclaim is too late
    DafsException e = org.junit.jupiter.api.Assertions.assertThrows(DafsException.class, () -> a.write(f, 0, bytes("x")));
    assertEquals(Status.NO_GRACE, e.status(), e.getMessage());
    assertTrue(e.getMessage().contains("restarted"), e.getMessage());
    assertEquals(Status.NO_GRACE, a.failure().orElseThrow().status());
  }

  @Test
  void aClientThatHeldNothingJustGoesOn() throws Exception {
    DafsServer first = start(Duration.ZERO);
    DafsSession a = connect(first, "idle");
    a.mkdir(a.root(), "d", 0755);
    first.close();
    start(Duration.ZERO);
    assertTrue(a.getattr(a.root()).isDirectory(), "nothing to reclaim, so no grace needed");
    assertEquals(1, a.stats().serverRestarts());
  }
}
