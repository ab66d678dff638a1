package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.Handshake;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one hostile client can do to the others: each attack runs against the server CLI in a JVM of
 * its own, while a well-behaved client in this JVM keeps working, and that client (and a new one) is
 * checked again once the attack is over. Seeds are printed; {@code -Dcachedafs.hostile.seed=S}
 * replays a run. Bounds are generous: they tell a server that keeps serving from one that stops, they
 * do not measure speed.
 */
class HostileClientIT {
  private static final byte[] SECRET = "hostile-suite-secret".getBytes(StandardCharsets.UTF_8);
  /** A request the well-behaved client makes may take this long before the test fails: generous, not a benchmark. */
  private static final Duration PATIENCE = Duration.ofSeconds(5);

  @TempDir Path tmp;

  private Path export() throws IOException {
    return Files.createDirectories(tmp.resolve("export"));
  }

  private ServerProcess server(int descriptorLimit, String... args) throws IOException {
    Path secretFile = tmp.resolve("secret");
    Files.write(secretFile, SECRET);
    List<String> all = new ArrayList<>(List.of("--export", export().toString(), "--secret-file", secretFile.toString()));
    all.addAll(List.of(args));
    return ServerProcess.start(tmp, descriptorLimit, List.of("-Xmx192m"), all.toArray(String[]::new));
  }

  private static DafsSession wellBehaved(ServerProcess server) throws IOException {
    return DafsClient.connect(server.uri, ClientOptions.defaults().withSecret(SECRET).withRequestTimeout(PATIENCE).withClientName("well-behaved"));
  }

  private static long seed(String test) {
    long seed = Long.getLong("cachedafs.hostile.seed", System.nanoTime());
    System.out.println("HostileClientIT." + test + ": seed " + seed + " (replay with -Dcachedafs.hostile.seed=" + seed + ")");
    return seed;
  }

  /** One round of ordinary work; any failure (a time-out included) fails the test. */
  private static void served(DafsSession s, OpenFile f, int round) throws IOException {
    byte[] data = ("round " + round + " of the well-behaved client").getBytes(StandardCharsets.UTF_8);
    assertEquals(data.length, s.write(f, round * 64L, ByteBuffer.wrap(data)));
    ByteBuffer back = ByteBuffer.allocate(data.length);
    s.read(f, round * 64L, back);
    assertArrayEquals(data, back.array(), "round " + round);
    s.lookup(s.root(), "canary");
  }

  /** Rounds of ordinary work until {@code until}; returns how many ran. */
  private static int servedWhile(DafsSession s, OpenFile f, long untilNanos) throws IOException {
    int rounds = 0;
    while (System.nanoTime() < untilNanos) {
      served(s, f, rounds++ % 1000);
    }
    return rounds;
  }

  private static void freshClientServed(ServerProcess server, String what) throws IOException {
    try (DafsSession fresh = wellBehaved(server)) {
      OpenFile f = fresh.open(fresh.root(), "fresh", OpenMode.readWrite().create(0644));
      served(fresh, f, 1);
      fresh.close(f);
    } catch (DafsException e) {
      throw new AssertionError("a new client is not served " + what + ": " + e.getMessage(), e);
    }
  }

  /** Reads whatever the server sends until it closes the connection; false if it is still open at the deadline. */
  private static boolean closedByServer(Socket s, Duration within) throws IOException {
    long deadline = System.nanoTime() + within.toNanos();
    byte[] sink = new byte[1 << 16];
    s.setSoTimeout(1000);
    InputStream in = s.getInputStream();
    while (System.nanoTime() < deadline) {
      try {
        if (in.read(sink) < 0) {
          return true;
        }
      } catch (SocketTimeoutException e) {
        // Still open; keep reading.
      } catch (IOException e) {
        return true; // reset
      }
    }
    return false;
  }

  // --- the attacks -------------------------------------------------------------------------------

  /**
   * Defect: a client that stopped reading its replies froze every worker, since replies were written
   * blocking under the connection's send lock. Here 100 one-MiB READs are sent and never read, with
   * lease renewals kept coming; the other client is served throughout, the stalled connection is closed
   * after the stall time-out, and the server's memory stays bounded.
   */
  @Test
  void aClientThatStopsReadingItsRepliesStallsOnlyItself() throws Exception {
    long seed = seed("stalledReader");
    Random rnd = new Random(seed);
    byte[] big = new byte[8 << 20];
    rnd.nextBytes(big);
    Files.write(export().resolve("big"), big);
    try (ServerProcess server = server(0, "--stall-timeout-ms", "3000");
        DafsSession good = wellBehaved(server)) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      served(good, canary, 0);
      long rssBefore = server.residentBytes();

      RawClient attacker = new RawClient(addressOf(server), 4096);
      assertEquals(Status.OK, attacker.handshake(SECRET, "stalled-reader", 64));
      RawClient.Answer opened = attacker.call(Opcode.OPEN,
          new Requests.Open(attacker.root, "big", Requests.Open.ACCESS_READ, 0, Requests.Open.NO_DELEGATION, 0), 0, 1);
      assertEquals(Status.OK, opened.status());
      long state = ((Replies.Opened) opened.body()).stateId();
      int[] seq = new int[64];
      seq[0] = 1;
      AtomicBoolean attacking = new AtomicBoolean(true);
      Thread flood = new Thread(() -> {
        try {
          for (int i = 0; i < 100; i++) {
            int slot = i % 64;
            attacker.send(attacker.request(Opcode.READ, new Requests.Read(state, (long) (i % 8) << 20, 1 << 20), slot, ++seq[slot]));
          }
          while (attacking.get()) {
            attacker.send(attacker.request(Opcode.SESSION_RENEW, Requests.NoArgs.INSTANCE, -1, 0));
            Thread.sleep(200);
          }
        } catch (IOException | InterruptedException e) {
          // The server stopped reading us, or closed us: both are the point.
        }
      }, "stalled-reader");
      flood.setDaemon(true);
      flood.start();

      long maxRss = 0;
      int rounds = 0;
      long end = System.nanoTime() + Duration.ofSeconds(8).toNanos();
      while (System.nanoTime() < end) {
        rounds += servedWhile(good, canary, System.nanoTime() + 250_000_000L);
        maxRss = Math.max(maxRss, server.residentBytes());
      }
      freshClientServed(server, "while a client leaves 100 MiB of replies unread");
      attacking.set(false);
      assertTrue(closedByServer(attacker.socket, Duration.ofSeconds(30)),
          "the server closes the connection of a client that stopped reading");
      attacker.close();
      System.out.printf("stalledReader: %d rounds served during the attack; server RSS %d MiB before, at most %d MiB during%n",
          rounds, rssBefore >> 20, maxRss >> 20);
      assertTrue(maxRss < 768L << 20, "server memory stays bounded: RSS reached " + (maxRss >> 20) + " MiB");
      served(good, canary, 999);
      assertTrue(server.alive());
    }
  }

  /**
   * A client that asks the server for direct writes and never answers the server's one-sided reads of
   * its memory: each transfer holds a staging chunk only until the stall timeout, then the connection
   * closes (so a late answer can land nowhere), and another client's direct I/O keeps working,
   * byte for byte, throughout.
   */
  @Test
  void aClientThatNeverAnswersTheServersOneSidedReadsLosesOnlyItsConnection() throws Exception {
    long seed = seed("silentMemory");
    Random rnd = new Random(seed);
    try (ServerProcess server = server(0, "--stall-timeout-ms", "2000");
        DafsSession good = wellBehaved(server)) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      RawClient attacker = new RawClient(addressOf(server));
      assertEquals(Status.OK, attacker.handshake(SECRET, "silent-memory", 16));
      RawClient.Answer opened = attacker.call(Opcode.OPEN, new Requests.Open(attacker.root, "victim-of-nothing",
          Requests.Open.ACCESS_READ | Requests.Open.ACCESS_WRITE, 0, Requests.Open.CREATE | Requests.Open.NO_DELEGATION, 0644), 0, 1);
      assertEquals(Status.OK, opened.status());
      long state = ((Replies.Opened) opened.body()).stateId();
      // Sixteen direct writes of 1 MiB from "memory" the attacker will never serve.
      for (int i = 0; i < 16; i++) {
        attacker.send(attacker.request(Opcode.WRITE_DIRECT, new Requests.Direct(state, (long) i << 20, 1 << 20, org.cachedafs.protocol.RegionDescriptor.of(java.nio.ByteBuffer.allocate(8).putLong(0x5eedL + i).array()), 0), i, i == 0 ? 2 : 1));
      }
      OpenFile f = good.open(good.root(), "direct", OpenMode.readWrite().create(0644));
      long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
      int rounds = 0;
      try (org.cachedafs.transport.Region region = good.allocate(4 << 20)) {
        ByteBuffer memory = region.buffer();
        while (System.nanoTime() < end) {
          byte[] data = new byte[1 << 20];
          rnd.nextBytes(data);
          memory.clear().put(data);
          long at = (long) (rounds % 4) << 20;
          assertEquals(data.length, good.writeDirect(f, at, region, 0, data.length), "direct write " + rounds);
          memory.clear();
          for (int k = 0; k < data.length; k++) {
            memory.put(k + (1 << 20), (byte) 0);
          }
          assertEquals(data.length, good.readDirect(f, at, region, 1 << 20, data.length), "direct read " + rounds);
          byte[] back = new byte[data.length];
          memory.get(1 << 20, back);
          assertArrayEquals(data, back, "the well-behaved client's direct bytes, round " + rounds);
          rounds++;
        }
      }
      assertTrue(closedByServer(attacker.socket, Duration.ofSeconds(30)),
          "the server closes the connection of a client whose memory never answers");
      attacker.close();
      System.out.println("silentMemory: " + rounds + " direct write-and-read rounds of 1 MiB served during the attack");
      freshClientServed(server, "after a client left its direct transfers unanswered");
      served(good, canary, 1);
      assertTrue(server.alive());
    }
  }

  /**
   * Slowloris and a connection flood: hundreds of connections that send half a header and stall, then
   * hundreds that connect and go. Connections without a session are evicted oldest first, so a new
   * client still gets in, and the one already in is never disturbed.
   */
  @Test
  void slowlorisAndAConnectionFloodLeaveRoomForRealClients() throws Exception {
    long seed = seed("slowloris");
    Random rnd = new Random(seed);
    try (ServerProcess server = server(0, "--max-connections", "200", "--max-unauthenticated", "50");
        DafsSession good = wellBehaved(server)) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      List<Socket> lorises = new ArrayList<>();
      try {
        for (int i = 0; i < 400; i++) {
          Socket s = new Socket();
          s.connect(addressOf(server), 5000);
          byte[] partial = new byte[1 + rnd.nextInt(31)];
          rnd.nextBytes(partial);
          partial[0] = 0; // a length that promises more than ever comes
          s.getOutputStream().write(partial);
          lorises.add(s);
          if (i % 50 == 0) {
            served(good, canary, i);
          }
        }
        freshClientServed(server, "during a slowloris attack of 400 connections");
        for (int i = 0; i < 400; i++) {
          try (Socket s = new Socket()) {
            s.connect(addressOf(server), 5000);
          }
        }
        freshClientServed(server, "after a flood of 400 connections");
        served(good, canary, 1);
      } finally {
        for (Socket s : lorises) {
          s.close();
        }
      }
      freshClientServed(server, "after the attack");
      System.out.println("slowloris: served throughout; server stderr " + server.stderrBytes() + " bytes");
    }
  }

  /**
   * A connection that keeps talking without ever creating a session (challenges asked for by the
   * thousand, requests naming no session) is closed after a handful of frames: it cannot make the
   * server answer for nothing, and the others are not disturbed.
   */
  @Test
  void aConnectionThatNeverCreatesASessionIsCutShort() throws Exception {
    seed("chatter");
    try (ServerProcess server = server(0);
        DafsSession good = wellBehaved(server)) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      for (Opcode op : List.of(Opcode.AUTH_INIT, Opcode.GETATTR)) {
        try (RawClient chatter = new RawClient(addressOf(server))) {
          try {
            for (int i = 0; i < 1000; i++) {
              Requests.Request body = op == Opcode.AUTH_INIT ? new Requests.AuthInit("chatter") : new Requests.HandleArg(good.root(), false);
              chatter.send(chatter.request(op, body, op.sequenced() ? 0 : -1, i + 1));
            }
          } catch (IOException e) {
            // Closed under us: the point.
          }
          assertTrue(closedByServer(chatter.socket, Duration.ofSeconds(30)), "a connection sending " + op + " without a session is closed");
        }
        served(good, canary, 1);
      }
      freshClientServed(server, "after the chatter");
    }
  }

  /**
   * A flood of sessions: sessions created and abandoned by the hundred, then as many held at once as
   * the server allows. Abandoned sessions make room for new ones; a full table of connected sessions
   * refuses with RESOURCE, naming the limit; the established client is never evicted.
   */
  @Test
  void aFloodOfSessionsNeverEvictsAConnectedClient() throws Exception {
    seed("sessionFlood");
    try (ServerProcess server = server(0, "--max-sessions", "32");
        DafsSession good = wellBehaved(server)) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      for (int i = 0; i < 200; i++) {
        try (RawClient abandoned = new RawClient(addressOf(server))) {
          assertEquals(Status.OK, abandoned.handshake(SECRET, "flood-" + i, 8), "abandoned sessions make room: session " + i);
        }
        if (i % 20 == 0) {
          served(good, canary, i);
        }
      }
      List<RawClient> held = new ArrayList<>();
      Status refused = null;
      try {
        for (int i = 0; i < 40 && refused == null; i++) {
          RawClient c = new RawClient(addressOf(server));
          held.add(c);
          Status st = c.handshake(SECRET, "holder-" + i, 8);
          if (st != Status.OK) {
            refused = st;
          }
        }
        assertEquals(Status.RESOURCE, refused, "a full table of connected sessions refuses a new one");
        assertTrue(held.size() <= 32, "at most 31 sessions beside the well-behaved one: " + held.size());
        served(good, canary, 2);
      } finally {
        for (RawClient c : held) {
          c.close();
        }
      }
      freshClientServed(server, "once the holders let go");
      served(good, canary, 3);
      assertEquals(0, good.stats().reconnects(), "the well-behaved client's session was never touched");
    }
  }

  /**
   * Descriptor exhaustion. Sessions that open thousands of files and sit on them cost the others
   * nothing: the server's descriptors are a cache over opens, and idle opens give theirs back and
   * reopen when next used, so an ordinary client still opens its files, the hoarded opens still work
   * (a removed file included, as unlink promises), and a session past its own limit gets RESOURCE
   * naming it. Connections by the hundred on top of that do not exhaust the process either.
   */
  @Test
  void descriptorExhaustionCostsOthersNothing() throws Exception {
    long seed = seed("descriptors");
    Random rnd = new Random(seed);
    try (ServerProcess server = server(600, "--max-opens-per-session", "1500");
        DafsSession good = wellBehaved(server)) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      List<DafsSession> hoarders = new ArrayList<>();
      List<List<OpenFile>> hoards = new ArrayList<>();
      try {
        DafsException refusal = null;
        for (int h = 0; h < 3; h++) {
          DafsSession s = DafsClient.connect(server.uri, ClientOptions.defaults().withSecret(SECRET).withClientName("hoarder-" + h));
          hoarders.add(s);
          List<OpenFile> hoard = new ArrayList<>();
          hoards.add(hoard);
          for (int i = 0; i <= 1500; i++) {
            try {
              OpenFile f = s.open(s.root(), "hoard-" + h + "-" + i, OpenMode.readWrite().create(0644));
              s.write(f, 0, ByteBuffer.wrap(("hoard " + h + " " + i).getBytes(StandardCharsets.UTF_8)));
              hoard.add(f);
            } catch (DafsException e) {
              refusal = e;
              break;
            }
          }
          assertEquals(1500, hoard.size(), "a session opens up to its own limit, whatever the descriptor budget");
          assertEquals(Status.RESOURCE, refusal.status(), refusal.getMessage());
          assertTrue(refusal.getMessage().contains("--max-opens-per-session"), "the refusal names its limit: " + refusal.getMessage());
        }
        // 4,500 opens against a budget of 450 descriptors: ordinary work goes on.
        for (int i = 0; i < 20; i++) {
          OpenFile f = good.open(good.root(), "ordinary-" + i, OpenMode.readWrite().create(0644));
          served(good, f, i);
        }
        // Hoarded opens still work, reopening as they are used; one whose file is removed meanwhile too.
        for (int k = 0; k < 50; k++) {
          int h = rnd.nextInt(3);
          int i = rnd.nextInt(1500);
          DafsSession s = hoarders.get(h);
          if (k == 0) {
            s.remove(s.root(), "hoard-" + h + "-" + i);
          }
          byte[] expected = ("hoard " + h + " " + i).getBytes(StandardCharsets.UTF_8);
          ByteBuffer back = ByteBuffer.allocate(expected.length);
          s.read(hoards.get(h).get(i), 0, back);
          assertArrayEquals(expected, back.array(), "hoarded open " + h + "/" + i + (k == 0 ? ", removed meanwhile" : ""));
        }
        long rss = server.residentBytes();
        System.out.println("descriptors: 4500 hoarded opens on a budget of half of 600 descriptors; all still usable; server RSS "
            + (rss >> 20) + " MiB");
        assertTrue(rss < 768L << 20, "server memory stays bounded: RSS " + (rss >> 20) + " MiB");

        // Then connections by the hundred: the connection limit is sized to the descriptors left
        // over from open files, so they cannot exhaust the process either.
        List<Socket> sockets = new ArrayList<>();
        try {
          for (int i = 0; i < 400; i++) {
            Socket s = new Socket();
            s.connect(addressOf(server), 5000);
            sockets.add(s);
          }
          freshClientServed(server, "with 400 idle connections and 4,500 hoarded opens");
          servedWhile(good, canary, System.nanoTime() + Duration.ofSeconds(1).toNanos());
        } finally {
          for (Socket s : sockets) {
            s.close();
          }
        }
      } finally {
        for (DafsSession s : hoarders) {
          s.close();
        }
      }
      freshClientServed(server, "after descriptor exhaustion");
      served(good, canary, 7);
    }
  }

  /**
   * The process's descriptors exhausted outright (a connection limit set above what they carry): the
   * accept loop backs off and logs once per interval instead of spinning on EMFILE, the established
   * client's open file keeps working, and once the attacker lets go new clients are served.
   */
  @Test
  void theAcceptLoopBacksOffWhenDescriptorsRunOut() throws Exception {
    seed("emfile");
    try (ServerProcess server = server(200, "--max-connections", "1000", "--max-unauthenticated", "1000");
        DafsSession good = wellBehaved(server)) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      List<Socket> sockets = new ArrayList<>();
      try {
        for (int i = 0; i < 400; i++) {
          Socket s = new Socket();
          try {
            s.connect(addressOf(server), 2000);
            sockets.add(s);
          } catch (IOException e) {
            s.close();
            break; // the listen backlog is full too
          }
        }
        // The server's own cost of the attack alone, while nobody else asks it for anything.
        long logBefore = server.stderrBytes();
        long cpuBefore = server.cpuTicks();
        Thread.sleep(5000);
        long logged = server.stderrBytes() - logBefore;
        long ticks = server.cpuTicks() - cpuBefore;
        System.out.printf("emfile: %d sockets; in 5 s the server logged %d bytes and used %d CPU ticks%n", sockets.size(), logged, ticks);
        assertTrue(logged < 4096, "the accept loop logs once per interval, not per failure: " + logged + " bytes in 5 s");
        // A spinning accept loop takes a whole core: 500 ticks in 5 s at 100 Hz.
        assertTrue(ticks < 250, "the accept loop backs off instead of spinning: " + ticks + " ticks in 5 s");
        for (int i = 0; i < 100; i++) {
          byte[] data = ("during exhaustion " + i).getBytes(StandardCharsets.UTF_8);
          good.write(canary, 0, ByteBuffer.wrap(data));
          ByteBuffer back = ByteBuffer.allocate(data.length);
          good.read(canary, 0, back);
          assertArrayEquals(data, back.array());
        }
      } finally {
        for (Socket s : sockets) {
          s.close();
        }
      }
      String log = Files.readString(server.stderr);
      assertTrue(log.contains("backing off"), "the exhaustion was seen and said: " + log);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (true) {
        try {
          freshClientServed(server, "once the attacker let go");
          break;
        } catch (AssertionError e) {
          // The accept loop works through the dead connections queued meanwhile, one back-off at a time.
          if (System.nanoTime() > deadline) {
            throw e;
          }
        }
      }
      served(good, canary, 3);
    }
  }

  /**
   * Poison bodies inside a valid session: each is answered BADXDR and uses up its sequence number,
   * so the session's next request on that slot works. A retransmission of a poison gets the same
   * answer.
   */
  @Test
  void poisonBodiesDoNotBreakTheirSession() throws Exception {
    long seed = seed("poison");
    try (ServerProcess server = server(0);
        DafsSession good = wellBehaved(server);
        RawClient raw = new RawClient(addressOf(server))) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      served(good, canary, 0);
      assertEquals(Status.OK, raw.handshake(SECRET, "poisoner", 4));
      SessionFuzzer fuzzer = new SessionFuzzer(raw, new Random(seed), 4);
      fuzzer.run(Integer.getInteger("cachedafs.hostile.poisons", Boolean.getBoolean("cachedafs.soak") ? 100_000 : 10_000));
      System.out.println("poison: " + fuzzer.summary());
      assertTrue(fuzzer.poisoned >= 10_000 && fuzzer.valid >= 5_000, fuzzer.summary());
      served(good, canary, 1);
    }
  }

  /**
   * Replays of another session's ids. Binding to a session needs proof of its key, which only its
   * creator holds: knowing its id and client name, or the secret, or a proof seen on another
   * connection, gets BADSESSION, and the owner's connection is not disturbed.
   */
  @Test
  void anotherSessionsIdsCannotBeTakenOver() throws Exception {
    long seed = seed("takeover");
    Random rnd = new Random(seed);
    try (ServerProcess server = server(0);
        DafsSession good = wellBehaved(server)) {
      OpenFile canary = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      long victim = good.sessionId();
      // A bind with the victim's id and name, and a proof from a guessed key.
      for (int i = 0; i < 20; i++) {
        try (RawClient thief = new RawClient(addressOf(server))) {
          byte[] serverNonce = thief.challenge("well-behaved");
          byte[] clientNonce = Handshake.nonce(new java.security.SecureRandom());
          byte[] guessedKey = new byte[32];
          if (i > 0) {
            rnd.nextBytes(guessedKey);
          }
          byte[] proof = i % 2 == 0 ? Handshake.bindProof(guessedKey, serverNonce, clientNonce, victim) : random(rnd, 32);
          RawClient.Answer a = thief.call(Opcode.SESSION_BIND, new Requests.SessionBind(victim, clientNonce, proof), -1, 0);
          assertEquals(Status.BADSESSION, a.status(), "bind " + i);
        }
      }
      // A session of its own, then frames naming the victim's session.
      try (RawClient thief = new RawClient(addressOf(server))) {
        assertEquals(Status.OK, thief.handshake(SECRET, "thief", 4));
        long own = thief.sessionId;
        thief.sessionId = victim;
        assertEquals(Status.BADSESSION, thief.call(Opcode.GETATTR, new Requests.HandleArg(thief.root, false), 0, 1).status());
        assertEquals(Status.BADSESSION, thief.call(Opcode.SESSION_DESTROY, Requests.NoArgs.INSTANCE, -1, 0).status());
        thief.sessionId = own;
        assertEquals(Status.OK, thief.call(Opcode.GETATTR, new Requests.HandleArg(thief.root, false), 0, 1).status());
      }
      // A recorded bind replayed verbatim on a new connection: the new challenge makes it worthless.
      try (RawClient first = new RawClient(addressOf(server)); RawClient second = new RawClient(addressOf(server))) {
        byte[] serverNonce = first.challenge("well-behaved");
        byte[] clientNonce = Handshake.nonce(new java.security.SecureRandom());
        Requests.SessionBind recorded = new Requests.SessionBind(victim, clientNonce, Handshake.bindProof(new byte[32], serverNonce, clientNonce, victim));
        assertEquals(Status.BADSESSION, first.call(Opcode.SESSION_BIND, recorded, -1, 0).status());
        second.challenge("well-behaved");
        assertEquals(Status.BADSESSION, second.call(Opcode.SESSION_BIND, recorded, -1, 0).status());
      }
      served(good, canary, 1);
      assertEquals(0, good.stats().reconnects(), "the owner's connection was never taken from it");
    }
  }

  private static byte[] random(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  private static InetSocketAddress addressOf(ServerProcess server) {
    return new InetSocketAddress(server.uri.getHost(), server.uri.getPort());
  }
}
