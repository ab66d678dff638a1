package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.Status;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache's promises, each through the public API against a real server. */
class CacheBehaviourTest {
  static final int BLOCK = 4096;
  @TempDir Path tmp;
  DafsServer server;
  Path export;

  DafsServer start(Duration lease) throws IOException {
    export = Files.createDirectories(tmp.resolve("export"));
    server = DafsServer.start(ServerOptions.of(export).withLease(lease));
    return server;
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  static CacheConfig small(int blocks) {
    return CacheConfig.defaults().withBlockSize(BLOCK).withCapacity((long) blocks * BLOCK).withSlabBytes(Math.min(blocks, 64) * (long) BLOCK);
  }

  byte[] randomFile(String name, int bytes) throws IOException {
    byte[] data = new byte[bytes];
    new Random(name.hashCode()).nextBytes(data);
    Files.write(export.resolve(name), data);
    return data;
  }

  static int readFully(CachedFile f, long pos, ByteBuffer dst) throws IOException {
    int total = 0;
    while (dst.hasRemaining()) {
      int n = f.read(pos + total, dst);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  @Test
  void aWarmReReadSendsNoRequestAtAll() throws Exception {
    start(Duration.ofMinutes(5));
    randomFile("warm", 64 * BLOCK);
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, small(128))) {
      CachedFile f = cache.open(s.root(), "warm", OpenMode.read());
      readFully(f, 0, ByteBuffer.allocate(64 * BLOCK));
      long before = s.stats().requestsSent();
      long hits = cache.stats().hits();
      Random rnd = new Random(3);
      ByteBuffer b = ByteBuffer.allocate(BLOCK);
      for (int i = 0; i < 10_000; i++) {
        b.clear();
        readFully(f, rnd.nextInt(63 * BLOCK), b);
      }
      f.size();
      f.attributes();
      assertEquals(before, s.stats().requestsSent(), "hits, size and attributes under a delegation send nothing");
      assertTrue(cache.stats().hits() - hits >= 10_000);
      f.close();
    }
  }

  @Test
  void aReadSetNearlyAsLargeAsTheCacheStaysWhole() throws Exception {
    start(Duration.ofSeconds(30));
    byte[] data = randomFile("nearly", 100 * BLOCK);
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, small(128).withReadAhead(false))) {
      CachedFile f = cache.open(s.root(), "nearly", OpenMode.read());
      ByteBuffer all = ByteBuffer.allocate(100 * BLOCK);
      readFully(f, 0, all);
      assertArrayEquals(data, all.array());
      CacheStats warm = cache.stats();
      Random rnd = new Random(3);
      ByteBuffer piece = ByteBuffer.allocate(4096);
      for (int i = 0; i < 20_000; i++) {
        piece.clear();
        readFully(f, rnd.nextInt(100 * BLOCK - 4096), piece);
      }
      CacheStats after = cache.stats();
      // 100 of 128 blocks: only a small reserve for fills is kept from the policy, no share for writes.
      assertEquals(warm.misses(), after.misses(), "no re-reads of a set that fits");
      assertEquals(warm.evictions(), after.evictions(), "and no evictions");
      f.close();
    }
  }

  @Test
  void eachSlabIsRegisteredOnceAcrossALongRun() throws Exception {
    start(Duration.ofSeconds(30));
    randomFile("long", 512 * BLOCK);
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults())) {
      long before = s.stats().domain().registrations();
      try (CacheManager cache = CacheManager.create(s, small(64).withSlabBytes(16 * BLOCK))) {
        assertEquals(4, cache.stats().slabs());
        assertEquals(before + 4, s.stats().domain().registrations(), "one registration per slab, at start");
        CachedFile f = cache.open(s.root(), "long", OpenMode.readWrite());
        Random rnd = new Random(9);
        ByteBuffer b = ByteBuffer.allocate(3 * BLOCK);
        for (int i = 0; i < 10_000; i++) {
          b.clear().limit(1 + rnd.nextInt(3 * BLOCK));
          long pos = rnd.nextInt(510 * BLOCK);
          if (rnd.nextInt(4) == 0) {
            f.write(pos, b);
          } else {
            readFully(f, pos, b);
          }
        }
        f.close();
        assertTrue(cache.stats().evictions() > 0 && cache.stats().misses() > 0 && cache.stats().bytesFlushed() > 0);
        // Besides the slabs, only the write-back's bounce buffers (at most 8), each once, the first time it
        // is needed: thousands of transfers, not one registration for any of them.
        long since = s.stats().domain().registrations() - before - 4;
        assertTrue(since >= 0 && since <= 8, since + " registrations for 10,000 reads and writes");
      }
    }
  }

  @Test
  void sequentialReadsAreReadAheadAndRandomOnesAreNot() throws Exception {
    start(Duration.ofSeconds(30));
    byte[] data = randomFile("seq", 1024 * BLOCK);
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, small(512).withMaxReadAheadBlocks(32))) {
      CachedFile f = cache.open(s.root(), "seq", OpenMode.read());
      ByteBuffer all = ByteBuffer.allocate(data.length);
      ByteBuffer piece = ByteBuffer.allocate(BLOCK);
      for (long pos = 0; pos < data.length; pos += BLOCK) {
        piece.clear();
        readFully(f, pos, piece);
        all.put(piece.flip());
      }
      assertArrayEquals(data, all.array());
      CacheStats st = cache.stats();
      assertTrue(f.readAheadWindow() == 32, "the window grew to its maximum: " + f.readAheadWindow());
      assertTrue(st.readAheadIssued() > 900, "blocks were read ahead: " + st);
      assertTrue(st.readAheadUsed() > st.readAheadIssued() * 9 / 10, "and nearly all of them used: " + st);
      assertTrue(st.misses() < 64, "so readers seldom waited: " + st);
      f.close();

      CachedFile r = cache.open(s.root(), "seq", OpenMode.read());
      Random rnd = new Random(1);
      for (int i = 0; i < 200; i++) {
        piece.clear();
        readFully(r, (long) rnd.nextInt(1000) * BLOCK + rnd.nextInt(100), piece);
      }
      assertEquals(0, r.readAheadWindow(), "random access turns read-ahead off");
      r.close();
    }
  }

  @Test
  void aRunOfBlocksReadAheadTogetherTakesOneRequest() throws Exception {
    start(Duration.ofSeconds(30));
    byte[] data = randomFile("runs", 1024 * BLOCK);
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, small(512).withMaxReadAheadBlocks(32))) {
      CachedFile f = cache.open(s.root(), "runs", OpenMode.read());
      long sent = s.stats().requestsSent();
      ByteBuffer all = ByteBuffer.allocate(data.length);
      ByteBuffer piece = ByteBuffer.allocate(16 * BLOCK);
      for (long pos = 0; pos < data.length; pos += piece.capacity()) {
        piece.clear();
        readFully(f, pos, piece);
        all.put(piece.flip());
      }
      long requests = s.stats().requestsSent() - sent;
      assertArrayEquals(data, all.array(), "each block of a run holds its own part of the file, though they lie in 8 slabs");
      CacheStats st = cache.stats();
      assertTrue(st.readAheadIssued() > 900, "blocks were read ahead: " + st);
      // One per block would be over 1024; one per run (and per early miss, before the window grew) is about 110.
      assertTrue(requests < 1024 / 4, "a run of blocks goes out as one scatter read: " + requests + " requests for 1024 blocks, " + st);
      f.close();
    }
  }

  @Test
  void underAReadDelegationWritesGoThroughAndTheCacheFollows() throws Exception {
    start(Duration.ofSeconds(30));
    randomFile("rd", 16 * BLOCK);
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, small(64))) {
      CachedFile reader = cache.open(s.root(), "rd", OpenMode.read());
      readFully(reader, 0, ByteBuffer.allocate(16 * BLOCK));
      CachedFile writer = cache.open(s.root(), "rd", OpenMode.readWrite()); // same (READ) delegation
      assertTrue(writer.isCached() && !writer.isWriteBack());
      writer.write(5000, ByteBuffer.wrap("through".getBytes(StandardCharsets.UTF_8)));
      assertEquals("through", new String(Files.readAllBytes(export.resolve("rd")), 5000, 7, StandardCharsets.UTF_8), "on the server at once");
      ByteBuffer back = ByteBuffer.allocate(7);
      readFully(reader, 5000, back);
      assertEquals("through", new String(back.array(), StandardCharsets.UTF_8), "and no stale copy is served");
      writer.write(16 * BLOCK, ByteBuffer.wrap(new byte[] {1, 2}));
      assertEquals(16 * BLOCK + 2, reader.size(), "the cached size follows an append");
      assertTrue(cache.stats().writeThroughs() >= 2);
      reader.close();
      writer.close();
    }
  }

  @Test
  void anUncachedOpenGoesToTheServerAndStillSeesThisClientsDirtyBytes() throws Exception {
    start(Duration.ofSeconds(30));
    randomFile("direct", 8 * BLOCK);
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, small(64))) {
      CachedFile cached = cache.open(s.root(), "direct", OpenMode.readWrite());
      cached.write(100, ByteBuffer.wrap("dirty".getBytes(StandardCharsets.UTF_8)));
      CachedFile direct = cache.open(s.root(), "direct", OpenMode.readWrite(), true);
      long hits = cache.stats().hits();
      ByteBuffer b = ByteBuffer.allocate(5);
      readFully(direct, 100, b);
      assertEquals("dirty", new String(b.array(), StandardCharsets.UTF_8), "the dirty bytes were written back first");
      direct.write(200, ByteBuffer.wrap("bypass".getBytes(StandardCharsets.UTF_8)));
      assertEquals("bypass", new String(Files.readAllBytes(export.resolve("direct")), 200, 6, StandardCharsets.UTF_8));
      assertEquals(hits, cache.stats().hits(), "the uncached open never touched the cache");
      ByteBuffer c = ByteBuffer.allocate(6);
      readFully(cached, 200, c);
      assertEquals("bypass", new String(c.array(), StandardCharsets.UTF_8), "and the cached open sees what it wrote");
      cached.close();
      direct.close();
    }
  }

  @Test
  void appendsAndPartialBlockWritesUnderAWriteDelegation() throws Exception {
    start(Duration.ofSeconds(30));
    byte[] data = randomFile("grow", 3 * BLOCK + 100);
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, small(64))) {
      CachedFile f = cache.open(s.root(), "grow", OpenMode.readWrite());
      assertTrue(f.isWriteBack());
      readFully(f, 0, ByteBuffer.allocate(data.length)); // cache the file, its partial last block included
      f.write(BLOCK - 3, ByteBuffer.wrap(new byte[] {7, 7, 7, 7, 7, 7})); // across a block boundary, partial
      long sent = s.stats().requestsSent();
      f.write(f.size(), ByteBuffer.wrap(new byte[10])); // append
      f.write(10 * BLOCK, ByteBuffer.wrap(new byte[] {5})); // past the end: a hole
      assertEquals(10 * BLOCK + 1, f.size(), "the size is kept locally");
      assertEquals(sent, s.stats().requestsSent(), "appends into fresh blocks need no server round trip");
      ByteBuffer hole = ByteBuffer.allocate(BLOCK);
      readFully(f, 5 * BLOCK, hole);
      assertArrayEquals(new byte[BLOCK], hole.array(), "a hole reads as zeros");
      f.truncate(2 * BLOCK + 1);
      assertEquals(2 * BLOCK + 1, f.size());
      f.sync();
      byte[] disk = Files.readAllBytes(export.resolve("grow"));
      byte[] expect = Arrays.copyOf(data, 2 * BLOCK + 1);
      Arrays.fill(expect, BLOCK - 3, BLOCK + 3, (byte) 7);
      assertArrayEquals(expect, disk);
      f.close();
    }
  }

  @Test
  void writersPastTheDirtyLimitWriteBackAsTheyGo() throws Exception {
    start(Duration.ofSeconds(30));
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, small(64).withDirtyFraction(0.25).withFlushInterval(Duration.ofHours(1)))) {
      CachedFile f = cache.open(s.root(), "many", OpenMode.readWrite().create(0644));
      int maxDirty = 0;
      for (int i = 0; i < 200; i++) {
        f.write((long) i * BLOCK, ByteBuffer.wrap(new byte[BLOCK]));
        maxDirty = Math.max(maxDirty, cache.stats().dirtyBlocks());
      }
      assertTrue(maxDirty <= 17, "dirty blocks stay near the limit of 16: " + maxDirty);
      assertTrue(cache.stats().bytesFlushed() > 100L * BLOCK, "written back along the way");
      f.close();
      assertEquals(200L * BLOCK, Files.size(export.resolve("many")));
    }
  }

  @Test
  void aRecallWritesBackThenDropsAndTheOtherClientSeesTheBytes() throws Exception {
    start(Duration.ofSeconds(30));
    randomFile("shared", 8 * BLOCK);
    try (DafsSession a = DafsClient.connect(server.uri(), ClientOptions.defaults());
        DafsSession b = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager ca = CacheManager.create(a, small(64));
        CacheManager cb = CacheManager.create(b, small(64))) {
      CachedFile fa = ca.open(a.root(), "shared", OpenMode.readWrite());
      fa.write(3 * BLOCK + 5, ByteBuffer.wrap("from A".getBytes(StandardCharsets.UTF_8)));
      assertTrue(ca.stats().dirtyBlocks() > 0);
      CachedFile fb = cb.open(b.root(), "shared", OpenMode.read());
      ByteBuffer got = ByteBuffer.allocate(6);
      readFully(fb, 3 * BLOCK + 5, got);
      assertEquals("from A", new String(got.array(), StandardCharsets.UTF_8));
      // B went on when the server had A's return; A counts it when the server's answer reaches it.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (ca.stats().returns() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      CacheStats st = ca.stats();
      assertEquals(1, st.recalls());
      assertEquals(1, st.returns());
      assertEquals(0, st.dirtyBlocks());
      assertEquals(0, st.usedBlocks(), "A dropped the file's blocks");
      assertFalse(fa.isCached(), "and reads from the server from now on");
      fa.close();
      fb.close();
    }
  }

  @Test
  void aRevokedHolderWithUnflushedDataGetsAnIoErrorAndTheFileKeepsTheNewOwnersBytes() throws Exception {
    Duration lease = Duration.ofMillis(1500);
    start(lease);
    Files.writeString(export.resolve("contested"), "original");
    try (CallbackDroppingProxy proxy = new CallbackDroppingProxy(server.address());
        DafsSession a = DafsClient.connect(proxy.uri(), ClientOptions.defaults());
        DafsSession b = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager ca = CacheManager.create(a, small(64).withFlushInterval(Duration.ofHours(1)));
        CacheManager cb = CacheManager.create(b, small(64))) {
      CachedFile fa = ca.open(a.root(), "contested", OpenMode.readWrite());
      assertTrue(fa.isWriteBack());
      fa.write(0, ByteBuffer.wrap("HOLDER!!".getBytes(StandardCharsets.UTF_8)));
      // b's open recalls a's delegation; the recall never reaches a, so it is revoked at the lease.
      long t0 = System.nanoTime();
      CachedFile fb = cb.open(b.root(), "contested", OpenMode.readWrite().truncate());
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) >= lease.toMillis() - 50);
      fb.write(0, ByteBuffer.wrap("NEW OWNER".getBytes(StandardCharsets.UTF_8)));
      fb.close();
      // a learns of the revocation from its next lease renewal, and drops what it cached.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (ca.stats().lostBytes() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(1, ca.stats().revocations());
      DafsException e = assertThrows(DafsException.class, () -> fa.read(0, ByteBuffer.allocate(8)));
      assertEquals(Status.IO, e.status());
      assertTrue(e.getMessage().contains("lost"), e.getMessage());
      assertEquals(8, ca.stats().lostBytes());
      assertEquals("NEW OWNER", Files.readString(export.resolve("contested")), "nothing of a's reached the file");
      DafsException late = assertThrows(DafsException.class, () -> fa.write(0, ByteBuffer.wrap("late".getBytes(StandardCharsets.UTF_8))));
      assertEquals(Status.IO, late.status(), "its revoked open stays unusable");
      assertEquals("NEW OWNER", Files.readString(export.resolve("contested")));
      try {
        fa.close();
      } catch (DafsException ignored) {
        // Closing a revoked open may report the revocation again.
      }
    }
  }

  @Test
  void memoryLockingIsReported() throws Exception {
    start(Duration.ofSeconds(30));
    try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager off = CacheManager.create(s, small(16).withLockMemory(false))) {
      assertFalse(off.stats().memoryLocked(), "not locked when told not to");
    }
  }
}
