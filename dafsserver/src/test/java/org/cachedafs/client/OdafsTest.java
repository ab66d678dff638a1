package org.cachedafs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.RegionDescriptor;
import org.cachedafs.protocol.Replies.Reference;
import org.cachedafs.protocol.Replies.References;
import org.cachedafs.protocol.SlotImage;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteRegion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ODAFS end to end through the public API, on the transport the suite runs on (shm by default, tcp in
 * the {@code on-tcp} run). In the client's package, so that the security checks can reach the
 * session's connection and references as a hostile client would.
 */
class OdafsTest {
  @TempDir Path tmp;
  DafsServer server;
  DafsSession s;
  DafsSession writer;

  @BeforeEach
  void start() throws Exception {
    server = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("export"))));
    s = DafsClient.connect(server.uri(), ClientOptions.defaults().withOptimisticReads(true));
    writer = DafsClient.connect(server.uri(), ClientOptions.defaults());
  }

  @AfterEach
  void stop() {
    s.close();
    writer.close();
    server.close();
  }

  private static byte[] pattern(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  private byte[] read(OpenFile f, long offset, int n) throws DafsException {
    ByteBuffer b = ByteBuffer.allocate(n);
    int got = s.read(f, offset, b);
    byte[] out = new byte[got];
    b.flip().get(out);
    return out;
  }

  /** Writes {@code data} into a new file {@code name} through the writer; the reader's open of it for reading. */
  private OpenFile written(String name, byte[] data) throws DafsException {
    OpenFile w = writer.open(writer.root(), name, OpenMode.readWrite().create(0644));
    writer.write(w, 0, ByteBuffer.wrap(data));
    return s.open(s.root(), name, OpenMode.read());
  }

  private static byte[] slice(byte[] b, int from, int n) {
    return java.util.Arrays.copyOfRange(b, from, from + n);
  }

  @Test
  void aSecondReadIsServedByTheExportedCacheWithoutTheServer() throws Exception {
    byte[] data = pattern(64 << 10, 1);
    OpenFile f = written("f", data);

    assertArrayEquals(slice(data, 5000, 3000), read(f, 5000, 3000)); // by RPC, bringing references
    assertTrue(s.odafsStats().referencesReceived() > 0, s.odafsStats().toString());
    long executed = server.stats().executed();
    for (int i = 0; i < 100; i++) {
      int at = (i * 977) % (60 << 10);
      assertArrayEquals(slice(data, at, 1500), read(f, at, 1500));
    }
    OdafsStats st = s.odafsStats();
    assertTrue(st.accepted() > 0, st.toString());
    if (s.transport().equals("shm")) {
      // Blocks with references are read by the client alone: most of these reads ran nothing on the server.
      assertTrue(server.stats().executed() - executed < 100, "server operations: " + (server.stats().executed() - executed) + ", " + st);
    }
    assertTrue(server.stats().exported().referencesGiven() > 0);
  }

  @Test
  void aWriteTruncationOrRemovalIsNeverReadStale() throws Exception {
    byte[] first = pattern(16 << 10, 1);
    OpenFile w = writer.open(writer.root(), "g", OpenMode.readWrite().create(0644));
    writer.write(w, 0, ByteBuffer.wrap(first));
    OpenFile f = s.open(s.root(), "g", OpenMode.read());
    read(f, 0, 16 << 10);
    assertArrayEquals(slice(first, 4096, 4096), read(f, 4096, 4096));
    long accepted = s.odafsStats().accepted();
    assertTrue(accepted > 0, s.odafsStats().toString());

    byte[] second = pattern(4096, 7);
    writer.write(w, 4096, ByteBuffer.wrap(second)); // a write through the server: the slot changes
    assertArrayEquals(second, read(f, 4096, 4096));
    assertTrue(s.odafsStats().changed() > 0, s.odafsStats().toString());
    assertArrayEquals(second, read(f, 4096, 4096)); // and the fresh reference serves again
    assertTrue(s.odafsStats().accepted() > accepted);

    writer.setattr(w.handle(), w, SetAttributes.size(6000)); // truncation
    assertEquals(6000 - 4096, read(f, 4096, 4096).length);
    assertEquals(0, read(f, 8192, 4096).length);

    writer.remove(writer.root(), "g"); // removal: the open still reads the file it opened, never another's
    OpenFile h = writer.open(writer.root(), "g", OpenMode.readWrite().create(0644));
    byte[] third = pattern(8192, 9);
    writer.write(h, 0, ByteBuffer.wrap(third));
    byte[] seen = read(f, 0, 4096);
    assertArrayEquals(slice(first, 0, 4096), seen);
    OpenFile g = s.open(s.root(), "g", OpenMode.read());
    read(g, 0, 8192);
    assertArrayEquals(slice(third, 0, 4096), read(g, 0, 4096));
  }

  @Test
  void directReadsUseTheExportedCacheToo() throws Exception {
    byte[] data = pattern(32 << 10, 3);
    OpenFile f = written("d", data);
    try (Region r = s.allocate(32 << 10)) {
      assertEquals(32 << 10, s.readDirect(f, 0, r, 0, 32 << 10));
      long accepted = s.odafsStats().accepted();
      r.buffer().put(new byte[32 << 10]);
      assertEquals(8192, s.readDirect(f, 8192, r, 100, 8192));
      byte[] got = new byte[8192];
      r.buffer().position(100).get(got);
      assertArrayEquals(slice(data, 8192, 8192), got);
      assertTrue(s.odafsStats().accepted() > accepted, s.odafsStats().toString());
    }
  }

  @Test
  void referencesOnlyForOpensWithReadAccess() throws Exception {
    ClientSession cs = (ClientSession) s;
    OpenFile w = s.open(s.root(), "wo", OpenMode.write().create(0644));
    s.write(w, 0, ByteBuffer.wrap(pattern(8192, 2)));
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> cs.pipeline().call(Opcode.REFERENCES, new Requests.ReferenceRange(w.stateId(), 0, 2), References.class).get());
    assertEquals(org.cachedafs.protocol.Status.ACCES, ((DafsException) e.getCause()).status());
    OpenFile r = s.open(s.root(), "wo", OpenMode.read());
    References refs = cs.pipeline().call(Opcode.REFERENCES, new Requests.ReferenceRange(r.stateId(), 0, 4), References.class).get();
    assertEquals(2, refs.references().size()); // two blocks exist
  }

  private References references(DafsSession session, OpenFile f, int blocks) throws Exception {
    return ((ClientSession) session).pipeline()
        .call(Opcode.REFERENCES, new Requests.ReferenceRange(f.stateId(), 0, blocks), References.class).get();
  }

  private static Reference withSlab(Reference r, byte[] slab, long slotOffset) {
    return new Reference(RegionDescriptor.of(slab), slotOffset, r.boot(), r.file(), r.block(), r.generation());
  }

  /**
   * What a hostile client that holds references gets by altering them: its one-sided reads of a forged
   * descriptor (a key changed), a guessed one (random bytes) or the real slab past its end read nothing
   * into its memory, and the session, the reference tables and other clients go on.
   */
  @Test
  void aForgedOrGuessedDescriptorReadsNothing() throws Exception {
    byte[] data = pattern(16 << 10, 4);
    OpenFile f = written("x", data);
    References real = references(s, f, 4);
    Reference ref = real.references().get(1);
    byte[] flipped = ref.slab().bytes();
    flipped[flipped.length - 1] ^= 0x5A;
    byte[] guessed = new byte[ref.slab().bytes().length];
    new java.util.Random(42).nextBytes(guessed);
    int image = SlotImage.readLength(real.blockSize());
    java.util.List<Reference> forged = java.util.List.of(withSlab(ref, flipped, ref.slotOffset()), withSlab(ref, guessed, ref.slotOffset()),
        withSlab(ref, ref.slab().bytes(), Long.MAX_VALUE / 2), withSlab(ref, ref.slab().bytes(), -64));
    ClientSession cs = (ClientSession) s;
    for (Reference bad : forged) {
      try (Region scratch = s.allocate(image)) {
        byte[] before = new byte[image];
        java.util.Arrays.fill(before, (byte) 0x3C);
        scratch.buffer().put(0, before);
        java.util.concurrent.CompletableFuture<Void> read;
        try {
          read = cs.pipeline().connection().read(scratch, 0, RemoteRegion.of(bad.slab().bytes()), bad.slotOffset(), image);
        } catch (RuntimeException refusedAtOnce) {
          read = java.util.concurrent.CompletableFuture.failedFuture(refusedAtOnce);
        }
        java.util.concurrent.CompletableFuture<Void> r = read;
        org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> r.get(30, java.util.concurrent.TimeUnit.SECONDS),
            "a forged descriptor was read: " + bad);
        byte[] after = new byte[image];
        scratch.buffer().get(0, after);
        assertArrayEquals(before, after, "a refused one-sided read placed bytes");
      }
      // The session goes on: where the transport closed the connection on the error, it reconnects.
      assertArrayEquals(slice(data, 0, 4096), read(f, 0, 4096));
      // Through the optimistic path: the bad reference is tried, counted failed, dropped, and the read
      // is served by RPC.
      cs.optimisticReads().forget(f.stateId());
      cs.optimisticReads().absorb(f.stateId(), new References(real.blockSize(), java.util.List.of(bad)));
      long failed = s.odafsStats().failed();
      assertArrayEquals(slice(data, 4096, 4096), read(f, 4096, 4096));
      assertTrue(s.odafsStats().failed() > failed, s.odafsStats().toString());
    }
    // The other client never noticed.
    OpenFile w = writer.open(writer.root(), "x", OpenMode.read());
    ByteBuffer back = ByteBuffer.allocate(4096);
    assertEquals(4096, writer.read(w, 8192, back));
    assertArrayEquals(slice(data, 8192, 4096), back.array());
  }

  /**
   * References of an earlier server run never validate against a new one on the same export, even
   * for the same file and block: its descriptors name nothing the new server exposed and its file ids
   * carry the old run's prefix. The reads fall back, bring fresh references, and go on being served.
   */
  @Test
  void referencesOfAnEarlierServerRunNeverValidate() throws Exception {
    byte[] data = pattern(16 << 10, 5);
    OpenFile f = written("r", data);
    References old = references(s, f, 4);
    assertEquals(4, old.references().size());
    s.close();
    writer.close();
    server.close();

    server = DafsServer.start(ServerOptions.of(tmp.resolve("export")));
    s = DafsClient.connect(server.uri(), ClientOptions.defaults().withOptimisticReads(true));
    writer = DafsClient.connect(server.uri(), ClientOptions.defaults());
    OpenFile g = s.open(s.root(), "r", OpenMode.read());
    ((ClientSession) s).optimisticReads().absorb(g.stateId(), old);
    for (int b = 0; b < 4; b++) {
      assertArrayEquals(slice(data, b * 4096, 4096), read(g, b * 4096L, 4096));
    }
    OdafsStats st = s.odafsStats();
    assertEquals(0, st.accepted(), "a reference of the old run validated: " + st);
    // Each old reference tried is refused (tcp: an unknown key, and the connection closes) or names
    // nothing mapped (shm); one whose read found no connection yet is replaced by the fallback's fresh one.
    assertTrue(st.failed() + st.changed() >= 1, st.toString());
    for (int b = 0; b < 4; b++) {
      assertArrayEquals(slice(data, b * 4096, 4096), read(g, b * 4096L, 4096));
    }
    assertEquals(4, s.odafsStats().accepted(), s.odafsStats().toString());
  }
}
