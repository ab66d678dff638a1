package org.cachedafs.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies.References;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.cachedafs.transport.Region;
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

  private static byte[] slice(byte[] b, int from, int n) {
    return java.util.Arrays.copyOfRange(b, from, from + n);
  }

  @Test
  void aSecondReadIsServedByTheExportedCacheWithoutTheServer() throws Exception {
    byte[] data = pattern(64 << 10, 1);
    OpenFile w = writer.open(writer.root(), "f", OpenMode.readWrite().create(0644));
    writer.write(w, 0, ByteBuffer.wrap(data));
    OpenFile f = s.open(s.root(), "f", OpenMode.read());

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
    OpenFile w = writer.open(writer.root(), "d", OpenMode.readWrite().create(0644));
    writer.write(w, 0, ByteBuffer.wrap(data));
    OpenFile f = s.open(s.root(), "d", OpenMode.read());
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
}
