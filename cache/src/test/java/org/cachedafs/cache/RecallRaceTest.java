package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.delegation.DelegationTracker;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Replies.Opened;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recalls that race with grants, against a real server over loopback: the cache never goes on caching
 * under a delegation it has returned, and never keeps blocks from an earlier delegation under a later one.
 */
class RecallRaceTest {
  static final int BLOCK = 4096;
  @TempDir Path tmp;
  DafsServer server;
  Path export;

  @BeforeEach
  void start() throws IOException {
    export = Files.createDirectories(tmp.resolve("export"));
    server = DafsServer.start(ServerOptions.of(export).withLease(Duration.ofSeconds(30)));
  }

  /** Its own threads: the common pool may have one thread on a small machine, and a player never ends by itself. */
  final ExecutorService threads = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    threads.shutdownNow();
    if (server != null) {
      server.close();
    }
  }

  static CacheConfig small() {
    return CacheConfig.defaults().withBlockSize(BLOCK).withCapacity(64L * BLOCK).withSlabBytes(64L * BLOCK);
  }

  static String read4(CachedFile f) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4);
    while (b.hasRemaining() && f.read(b.position(), b) >= 0) {
      // a short read at a block boundary: go on
    }
    return new String(b.array(), StandardCharsets.UTF_8);
  }

  /** Polls until {@code done} or {@code millis} pass; says which. */
  static boolean awaitUpTo(long millis, BooleanSupplier done) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      LockSupport.parkNanos(200_000);
    }
    return true;
  }

  /**
   * The race behind the ping-pong stall, made to happen every time: the open's grant has been checked as
   * still held when the other client's recall arrives, before the cache has recorded it. The recall
   * must not decide "nothing cached under it" and return the delegation while the grant goes on to cache
   * under it: then no later recall matches, and this client reads its stale block forever.
   */
  @Test
  @Timeout(20)
  void aRecallLandingWhileTheGrantIsAppliedStillDropsTheFile() throws Exception {
    Files.writeString(export.resolve("counter"), "old!");
    try (DafsSession a = DafsClient.connect(server.uri(), ClientOptions.defaults());
        DafsSession b = DafsClient.connect(server.uri(), ClientOptions.defaults()); // no recall listener: takes no delegation
        CacheManager ca = CacheManager.create(a, small())) {
      CachedFile fa = ca.open(a.root(), "counter", OpenMode.readWrite().noDelegation());
      assertFalse(fa.isCached());
      FileCache fc = ca.file(fa.handle());
      // The open whose grant the race is about, handed to the cache step by step as CacheManager.open does.
      OpenFile granting = a.open(a.root(), "counter", OpenMode.readWrite());
      assertTrue(granting.hasWriteDelegation());
      long id = granting.delegationId();
      DelegationTracker<FileHandle> tracker = ca.delegations().tracker();
      assertTrue(ca.delegations().opened(granting));

      List<CompletableFuture<OpenFile>> conflicting = new ArrayList<>();
      BooleanSupplier stillHeldThenRecalled = () -> {
        boolean held = tracker.state(id) == DelegationTracker.State.HELD;
        conflicting.add(CompletableFuture.supplyAsync(() -> {
          try {
            return b.open(b.root(), "counter", OpenMode.readWrite());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }, threads));
        assertTrue(awaitUpTo(10_000, () -> tracker.state(id) != DelegationTracker.State.HELD), "the recall reached the tracker");
        // Without the file's monitor the listener decides at once and returns the delegation; with it,
        // it waits for this grant, so give up waiting after a while (either way is fine for the test).
        awaitUpTo(500, () -> tracker.state(id) != DelegationTracker.State.RECALLED);
        return held; // what the grant saw just before the recall came
      };
      ca.recalls.granted(fc, granting, stillHeldThenRecalled);

      assertEquals("old!", read4(fa), "b has not written yet");
      OpenFile ofB = conflicting.get(0).get(10, TimeUnit.SECONDS); // goes ahead once a returned the delegation
      b.write(ofB, 0, ByteBuffer.wrap("new!".getBytes(StandardCharsets.UTF_8)));
      assertEquals("new!", read4(fa), "a must not serve the block it cached under the returned delegation");
      assertFalse(fa.isCached(), "a's delegation was recalled");
      assertEquals(0, ca.cachingDelegation(fa.handle()));
      b.close(ofB);
      a.close(granting);
      fa.close();
    }
  }

  /**
   * A grant of a different delegation while blocks cached under an earlier one remain (however that came
   * about) drops them: under the new delegation, they may be older than what another client wrote in
   * between.
   */
  @Test
  @Timeout(20)
  void aGrantOfAnotherDelegationDropsWhatAnEarlierOneLeft() throws Exception {
    Files.writeString(export.resolve("left"), "old!");
    try (DafsSession a = DafsClient.connect(server.uri(), ClientOptions.defaults());
        DafsSession b = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager ca = CacheManager.create(a, small())) {
      CachedFile fa = ca.open(a.root(), "left", OpenMode.readWrite());
      assertTrue(fa.isWriteBack());
      assertEquals("old!", read4(fa));
      FileCache fc = ca.file(fa.handle());
      long first = fc.delegationId;
      assertTrue(fc.table.get(0) instanceof Block, "cached under the first delegation");
      // Another delegation on the same file, as an open reply would carry it.
      OpenFile next = new OpenFile(fa.handle(), 0, OpenMode.readWrite(), a.getattr(fa.handle()), Opened.DELEGATION_WRITE, first + 1);
      ca.recalls.granted(fc, next, () -> true);
      assertEquals(first + 1, fc.delegationId);
      assertEquals(null, fc.table.get(0), "blocks of the earlier delegation are gone");

      // b's write recalls the first delegation (nothing is cached under it now) and changes the bytes.
      OpenFile ofB = b.open(b.root(), "left", OpenMode.readWrite());
      b.write(ofB, 0, ByteBuffer.wrap("new!".getBytes(StandardCharsets.UTF_8)));
      b.close(ofB);
      assertEquals("new!", read4(fa), "read from the server, not from a block of the first delegation");
      fa.close();
    }
  }

  /**
   * Two caches, each with its own session, take turns writing a counter into one file, as the
   * benchmark's recall ping-pong does: every look recalls the other's delegation. A player that kept a
   * stale counter would wait forever; each gives up with what it saw.
   */
  @Test
  @Timeout(30)
  void twoCachesPingPongACounterWithoutEverSeeingAStaleValue() throws Exception {
    int turns = 1000;
    Files.write(export.resolve("pingpong"), new byte[8]);
    try (DafsSession s0 = DafsClient.connect(server.uri(), ClientOptions.defaults());
        DafsSession s1 = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager c0 = CacheManager.create(s0, small());
        CacheManager c1 = CacheManager.create(s1, small())) {
      List<CompletableFuture<Void>> players = new ArrayList<>();
      CacheManager[] caches = {c0, c1};
      for (int p = 0; p < 2; p++) {
        int player = p;
        CacheManager cache = caches[p];
        players.add(CompletableFuture.runAsync(() -> {
          try {
            play(cache, player, turns);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }, threads));
      }
      CompletableFuture.allOf(players.toArray(CompletableFuture[]::new)).get(25, TimeUnit.SECONDS);
      assertEquals(2L * turns, ByteBuffer.wrap(Files.readAllBytes(export.resolve("pingpong"))).getLong());
      assertTrue(c0.stats().recalls() > 0 && c1.stats().recalls() > 0);
    }
  }

  private static void play(CacheManager cache, int player, int turns) throws IOException {
    DafsSession s = cache.session();
    ByteBuffer word = ByteBuffer.allocate(8);
    long lastSeen = -1;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (int done = 0; done < turns; ) {
      if (System.nanoTime() > deadline) {
        throw new IOException("player " + player + " stalled after " + done + " turns, last saw " + lastSeen + ", " + cache.stats());
      }
      CachedFile f = cache.open(s.root(), "pingpong", OpenMode.readWrite());
      boolean mine;
      try {
        word.clear();
        while (word.hasRemaining() && f.read(word.position(), word) >= 0) {
          // a short read: go on
        }
        long counter = word.getLong(0);
        assertTrue(counter >= lastSeen, "player " + player + " saw the counter go back from " + lastSeen + " to " + counter);
        lastSeen = counter;
        mine = counter % 2 == player;
        if (mine) {
          word.clear();
          word.putLong(0, counter + 1);
          f.write(0, word);
          done++;
        }
      } finally {
        f.close();
      }
      if (!mine) {
        LockSupport.parkNanos(100_000);
      }
    }
  }
}
