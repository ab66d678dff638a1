package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's side of a restart, spoken raw: the client records in the state directory, the grace
 * period (new state waits with DELAY, known clients reclaim under their old ids, strangers get
 * RECLAIM_BAD, everyone after it NO_GRACE), and its end, early when every known client is back or at
 * its time. The servers stop cleanly here (close): what a restart keeps is the same after kill -9
 * ({@code RestartProcessIT} in the cache module does that).
 */
class GraceTest {
  @TempDir Path tmp;
  Path export;
  Path state;
  int port;
  final List<DafsServer> servers = new ArrayList<>();
  final List<RawClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    export = Files.createDirectories(tmp.resolve("export"));
    state = tmp.resolve("state");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (RawClient c : clients) {
      c.close();
    }
    servers.forEach(DafsServer::close);
  }

  DafsServer start(Duration grace) throws Exception {
    ServerOptions o = ServerOptions.of(export).withStateDir(state).withLease(Duration.ofSeconds(5)).withGrace(grace);
    DafsServer s = DafsServer.start(port == 0 ? o : o.withListen(new InetSocketAddress("127.0.0.1", port)));
    port = s.address().getPort();
    servers.add(s);
    Assumptions.assumeTrue(s.stats().handles().durable(), "reclaim is by handle, and handles here do not outlive the server: " + s.stats().handles());
    return s;
  }

  /** A client with the given id, its session created. */
  RawClient client(DafsServer s, String name, byte[] id) throws Exception {
    RawClient c = new RawClient(s.address());
    clients.add(c);
    assertEquals(Status.OK, c.handshake(new byte[0], name, 8, id));
    return c;
  }

  static byte[] id(int b) {
    byte[] id = new byte[Limits.CLIENT_ID_BYTES];
    id[0] = (byte) b;
    return id;
  }

  /** Per slot, the last sequence used; each test's raw client uses slot i for its i-th call in turn. */
  static final class Slots {
    final int[] seq = new int[8];
    int next;

    RawClient.Answer call(RawClient c, Opcode op, Requests.Request body) throws Exception {
      int slot = next++ % seq.length;
      return c.call(op, body, op.sequenced() ? slot : -1, op.sequenced() ? ++seq[slot] : 0);
    }
  }

  @Test
  void aClientIsRecordedBeforeItHoldsAnythingAndForgottenWhenItLeaves() throws Exception {
    DafsServer s = start(null);
    RawClient a = client(s, "writer é", id(1));
    List<String> lines = Files.readAllLines(state.resolve(ClientRecords.FILE_NAME));
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).startsWith("+ 01000000"), lines.toString());
    assertTrue(lines.get(0).endsWith(java.util.HexFormat.of().formatHex("writer é".getBytes(StandardCharsets.UTF_8))), "the name, in hex");
    assertEquals(1, s.stats().grace().recordedClients());
    a.call(Opcode.SESSION_DESTROY, Requests.NoArgs.INSTANCE, -1, 0);
    waitFor(() -> s.stats().grace().recordedClients() == 0);
    assertTrue(Files.readAllLines(state.resolve(ClientRecords.FILE_NAME)).get(1).startsWith("- 01000000"));
    s.close();
    DafsServer again = start(null);
    assertFalse(again.stats().grace().active(), "nobody held anything: no grace");
    assertEquals(List.of(), Files.readAllLines(state.resolve(ClientRecords.FILE_NAME)), "compacted at start");
  }

  @Test
  void knownClientsReclaimUnderTheirOldIdsWhileNewStateWaits() throws Exception {
    Files.writeString(export.resolve("f"), "0123456789");
    DafsServer first = start(Duration.ofSeconds(30));
    RawClient a = client(first, "a", id(1));
    Slots as = new Slots();
    Replies.Opened opened = (Replies.Opened) as.call(a, Opcode.OPEN, new Requests.Open(a.root, "f", 3, 0, 0, 0)).body();
    assertEquals(Replies.Opened.DELEGATION_WRITE, opened.delegation());
    assertEquals(Status.OK, as.call(a, Opcode.LOCK, new Requests.Lock(opened.stateId(), opened.handle(), new LockRange(0, 4, true))).status());
    long firstBoot = a.boot;
    first.close(); // the records stay: a is reclaimed at the next start

    DafsServer second = start(Duration.ofSeconds(30));
    assertTrue(second.stats().grace().active());
    assertEquals(1, second.stats().grace().knownClients());
    RawClient stranger = client(second, "b", id(2));
    assertNotEquals(firstBoot, stranger.boot, "a new boot verifier announces the restart");
    Slots bs = new Slots();
    Files.writeString(export.resolve("g"), "");
    RawClient.Answer waits = bs.call(stranger, Opcode.OPEN, new Requests.Open(stranger.root, "g", 1, 0, 0, 0));
    assertEquals(Status.DELAY, waits.status(), "new state waits for the grace period");
    assertTrue(((Replies.Error) waits.body()).message().contains("grace"), ((Replies.Error) waits.body()).message());
    assertEquals(Status.DELAY, bs.call(stranger, Opcode.REMOVE, new Requests.Entry(stranger.root, "f", 0, false)).status(),
        "a removal would take the file from under a reclaim");
    assertEquals(Status.RECLAIM_BAD, bs.call(stranger, Opcode.OPEN_RECLAIM,
        new Requests.Reclaim(opened.stateId(), opened.handle(), 3, 0, Replies.Opened.DELEGATION_WRITE, opened.delegationId())).status(),
        "a client that held nothing cannot reclaim a thing");

    RawClient back = client(second, "a", id(1));
    Slots ab = new Slots();
    RawClient.Answer r = ab.call(back, Opcode.OPEN_RECLAIM,
        new Requests.Reclaim(opened.stateId(), opened.handle(), 3, 0, Replies.Opened.DELEGATION_WRITE, opened.delegationId()));
    assertEquals(Status.OK, r.status());
    Replies.Opened reclaimed = (Replies.Opened) r.body();
    assertEquals(opened.stateId(), reclaimed.stateId(), "the open keeps its state id");
    assertEquals(opened.delegationId(), reclaimed.delegationId(), "and the delegation its id");
    assertEquals(Replies.Opened.DELEGATION_WRITE, reclaimed.delegation());
    assertEquals(Status.OK, ab.call(back, Opcode.LOCK_RECLAIM, new Requests.Lock(opened.stateId(), opened.handle(), new LockRange(0, 4, true))).status());
    assertEquals(Status.OK, ab.call(back, Opcode.WRITE, new Requests.Write(opened.stateId(), 0, ByteBuffer.wrap("AB".getBytes(StandardCharsets.UTF_8)))).status(),
        "the reclaimed open writes");
    RawClient.Answer test = bs.call(stranger, Opcode.LOCKT, new Requests.Lock(0, opened.handle(), new LockRange(0, 1, false)));
    assertEquals(new LockRange(0, 4, true), ((Replies.LockTest) test.body()).conflict(), "the lock is back");
    assertTrue(second.stats().grace().active(), "until a says it is done");

    assertEquals(Status.OK, back.call(Opcode.RECLAIM_COMPLETE, Requests.NoArgs.INSTANCE, -1, 0).status());
    ServerStats.Grace g = second.stats().grace();
    assertFalse(g.active(), "every known client reclaimed: grace ends at once");
    assertEquals(1, g.opensReclaimed());
    assertEquals(1, g.locksReclaimed());
    assertEquals(1, g.delegationsReclaimed());
    assertEquals(2, g.delayed());
    assertEquals(Status.OK, bs.call(stranger, Opcode.OPEN, new Requests.Open(stranger.root, "g", 1, 0, 0, 0)).status(), "after grace the open goes on");
    assertEquals(Status.NO_GRACE, ab.call(back, Opcode.OPEN_RECLAIM,
        new Requests.Reclaim(opened.stateId(), opened.handle(), 3, 0, Replies.Opened.DELEGATION_NONE, 0)).status(), "and reclaims are over");
    assertEquals("AB23456789", Files.readString(export.resolve("f")));
  }

  @Test
  void graceEndsAtItsTimeAndForgetsTheClientsThatStayedAway() throws Exception {
    DafsServer first = start(null);
    client(first, "gone", id(3));
    first.close();
    long started = System.nanoTime();
    DafsServer second = start(Duration.ofMillis(800));
    RawClient b = client(second, "b", id(4));
    Slots bs = new Slots();
    RawClient.Answer a;
    int delays = 0;
    while ((a = bs.call(b, Opcode.CREATE, new Requests.Entry(b.root, "x", 0644, false))).status() == Status.OK
        && (a = bs.call(b, Opcode.OPEN, new Requests.Open(b.root, "x", 1, 0, 0, 0))).status() == Status.DELAY) {
      delays++;
      Thread.sleep(50);
    }
    long waited = (System.nanoTime() - started) / 1_000_000;
    assertEquals(Status.OK, a.status());
    assertTrue(delays > 0 && waited >= 700, "the open waited for the grace period: " + delays + " DELAYs, " + waited + " ms");
    assertEquals(1, second.stats().grace().recordedClients(), "the client that stayed away is forgotten; b is recorded");
  }

  static void waitFor(java.util.function.BooleanSupplier c) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!c.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 5 s");
      Thread.sleep(10);
    }
  }
}
