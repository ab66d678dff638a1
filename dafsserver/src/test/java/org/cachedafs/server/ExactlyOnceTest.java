package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.client.Segment;
import org.cachedafs.protocol.Opcode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection is cut after the server ran a non-idempotent operation and before its reply
 * arrived. The client reconnects, binds the session again and retransmits; the reply cache answers
 * with the original reply, and the operation ran once. Running it twice would have failed (EXIST,
 * NOENT), so these tests fail without the reply cache.
 */
class ExactlyOnceTest {
  @TempDir Path tmp;
  ServerFixture fixture;
  CuttingProxy proxy;
  DafsSession s;

  @BeforeEach
  void start() throws Exception {
    fixture = new ServerFixture(tmp);
    proxy = new CuttingProxy(fixture.server.address());
    s = DafsClient.connect(proxy.uri(), ClientOptions.defaults());
  }

  @AfterEach
  void stop() throws Exception {
    s.close();
    proxy.close();
    fixture.close();
  }

  private void assertReplayedOnce(long replayedBefore) {
    assertEquals(1, proxy.cuts(), "the connection was cut after the reply");
    assertEquals(1, s.stats().reconnects());
    assertTrue(s.stats().retransmissions() >= 1);
    assertEquals(replayedBefore + 1, fixture.server.stats().replayed(), "answered from the reply cache");
  }

  @Test
  void exclusiveCreate() throws Exception {
    long replayed = fixture.server.stats().replayed();
    proxy.cutAfterReplyTo(Opcode.CREATE.code());
    s.create(s.root(), "once", 0644, true); // would be EXIST if it ran again
    assertReplayedOnce(replayed);
    assertTrue(Files.exists(fixture.export.resolve("once")));
  }

  @Test
  void exclusiveOpen() throws Exception {
    long replayed = fixture.server.stats().replayed();
    proxy.cutAfterReplyTo(Opcode.OPEN.code());
    OpenFile o = s.open(s.root(), "opened-once", OpenMode.write().create(0644).exclusive());
    assertReplayedOnce(replayed);
    s.write(o, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
    s.close(o);
    assertEquals(3, Files.size(fixture.export.resolve("opened-once")));
  }

  @Test
  void rename() throws Exception {
    Files.writeString(fixture.export.resolve("before"), "x");
    long replayed = fixture.server.stats().replayed();
    proxy.cutAfterReplyTo(Opcode.RENAME.code());
    s.rename(s.root(), "before", s.root(), "after"); // would be NOENT if it ran again
    assertReplayedOnce(replayed);
    assertFalse(Files.exists(fixture.export.resolve("before")));
    assertEquals("x", Files.readString(fixture.export.resolve("after")));
  }

  @Test
  void directReadCutInTheMiddleOfItsDataIsRunAgainNotAnsweredEmpty() throws Exception {
    byte[] data = new byte[3 << 20];
    new java.util.Random(5).nextBytes(data);
    Files.write(fixture.export.resolve("direct"), data);
    OpenFile o = s.open(s.root(), "direct", OpenMode.read());
    try (org.cachedafs.transport.Region region = s.allocate(data.length)) {
      ByteBuffer memory = region.buffer();
      proxy.cutOnNextDataFrame();
      assertEquals(data.length, s.readDirect(o, 0, region, 0, data.length));
      byte[] got = new byte[data.length];
      memory.get(got);
      org.junit.jupiter.api.Assertions.assertArrayEquals(data, got, "every byte arrived, over the new connection");
    }
    assertEquals(1, proxy.cuts());
    assertEquals(1, s.stats().reconnects());
    s.close(o);
  }

  @Test
  void scatterReadCutInTheMiddleOfItsDataIsRunAgainNotAnsweredEmpty() throws Exception {
    byte[] data = new byte[3 << 20];
    new java.util.Random(6).nextBytes(data);
    Files.write(fixture.export.resolve("scatter"), data);
    OpenFile o = s.open(s.root(), "scatter", OpenMode.read());
    int half = data.length / 2;
    try (org.cachedafs.transport.Region region = s.allocate(data.length + 4096)) {
      ByteBuffer memory = region.buffer();
      proxy.cutOnNextDataFrame();
      // The file's halves, placed the other way round.
      List<Segment> segments = List.of(new Segment(region, half + 4096, half), new Segment(region, 0, data.length - half));
      assertEquals(data.length, s.readDirectV(o, 0, segments));
      byte[] first = new byte[half];
      byte[] second = new byte[data.length - half];
      memory.get(half + 4096, first);
      memory.get(0, second);
      org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOf(data, half), first, "every byte arrived, over the new connection");
      org.junit.jupiter.api.Assertions.assertArrayEquals(java.util.Arrays.copyOfRange(data, half, data.length), second);
    }
    assertEquals(1, proxy.cuts());
    assertEquals(1, s.stats().reconnects());
    s.close(o);
  }

  @Test
  void remove() throws Exception {
    Files.writeString(fixture.export.resolve("doomed"), "x");
    long replayed = fixture.server.stats().replayed();
    proxy.cutAfterReplyTo(Opcode.REMOVE.code());
    s.remove(s.root(), "doomed"); // would be NOENT if it ran again
    assertReplayedOnce(replayed);
    assertFalse(Files.exists(fixture.export.resolve("doomed")));
    // The session goes on working over the new connection.
    s.create(s.root(), "after-reconnect", 0644, true);
  }
}
