package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.transport.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a session picks its transport: it starts on tcp and moves to shm on this host, as the setting says. */
class TransportMoveTest {
  @TempDir Path dir;

  @Test
  void autoMovesToShmOnThisHostAndEverythingWorksThere() throws Exception {
    try (ServerFixture f = new ServerFixture(dir)) {
      DafsSession s = f.connect(ClientOptions.defaults().withTransport("auto"));
      assertEquals("shm", s.transport());
      roundTrip(s);
    }
  }

  @Test
  void shmMovesOrSaysWhyNot() throws Exception {
    try (ServerFixture f = new ServerFixture(dir)) {
      DafsSession s = f.connect(ClientOptions.defaults().withTransport("shm"));
      assertEquals("shm", s.transport());
      roundTrip(s);
    }
    try (ServerFixture f = new ServerFixture(dir.resolve("no-shm"), o -> o.withShm(false))) {
      DafsException e = assertThrows(DafsException.class, () -> f.connect(ClientOptions.defaults().withTransport("shm")));
      assertTrue(e.getMessage().contains("offers no shm transport"), e.getMessage());
      assertEquals("tcp", f.connect(ClientOptions.defaults().withTransport("auto")).transport(), "auto stays on tcp");
    }
  }

  @Test
  void aSessionThatMovedMovesAgainAfterItsConnectionIsLostAndLosesNothing() throws Exception {
    try (ServerFixture f = new ServerFixture(dir)) {
      DafsSession s = f.connect(ClientOptions.defaults().withTransport("auto"));
      assertEquals("shm", s.transport());
      OpenFile file = s.open(s.root(), "kept", OpenMode.readWrite().create(0644));
      byte[] data = new byte[1 << 20];
      new Random(9).nextBytes(data);
      try (Region r = s.allocate(data.length)) {
        r.buffer().put(data);
        assertEquals(data.length, s.writeDirect(file, 0, r, 0, data.length));
        for (int cut = 1; cut <= 2; cut++) {
          org.cachedafs.transport.Connection before = f.server.sessions().get(s.sessionId()).connection();
          assertTrue(before.capabilities().oneSidedWithoutPeerCpu(), "the session's connection is the shm one");
          before.close(); // the server drops it, as a crash of the link would
          ByteBuffer zero = r.buffer();
          zero.put(new byte[zero.remaining()]);
          // The next direct read waits for the reconnect: bound on tcp, moved to shm again, then sent.
          assertEquals(data.length, s.readDirect(file, 0, r, 0, data.length));
          byte[] back = new byte[data.length];
          r.buffer().get(back);
          assertArrayEquals(data, back, "cut " + cut + ": the data came back whole");
          assertEquals(cut, s.stats().reconnects());
          assertEquals("shm", s.transport());
          org.cachedafs.transport.Connection after = f.server.sessions().get(s.sessionId()).connection();
          assertTrue(after != before && after.capabilities().oneSidedWithoutPeerCpu(), "it moved to shm again");
        }
      }
      s.close(file);
    }
  }

  @Test
  void directTransfersInFlightAcrossRepeatedCutsOfAMovedSessionAllSucceedWithTheirData() throws Exception {
    try (ServerFixture f = new ServerFixture(dir)) {
      DafsSession s = f.connect(ClientOptions.defaults().withTransport("auto").withCredits(16));
      assertEquals("shm", s.transport());
      OpenFile file = s.open(s.root(), "busy", OpenMode.readWrite().create(0644));
      int blocks = 64;
      int size = 64 * 1024;
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
      int[] generation = new int[blocks];
      try (Region r = s.allocate(blocks * size)) {
        // Writers keep many direct writes in flight while the session's shm connection is cut again
        // and again: each cut makes the session bind on tcp and move back, and a request the server
        // starts in between must be run again after the move, not answered BAD_REGION.
        Thread writer = new Thread(() -> {
          try {
            for (int round = 1; !stop.get(); round++) {
              java.util.List<java.util.concurrent.CompletableFuture<Integer>> inFlight = new java.util.ArrayList<>();
              for (int b = 0; b < blocks; b++) {
                ByteBuffer slice = r.buffer().position(b * size).limit((b + 1) * size);
                while (slice.hasRemaining()) {
                  slice.putInt(round * 1000 + b);
                }
                inFlight.add(s.writeDirectAsync(file, (long) b * size, r, b * size, size));
              }
              for (java.util.concurrent.CompletableFuture<Integer> w : inFlight) {
                assertEquals(size, w.get(60, java.util.concurrent.TimeUnit.SECONDS));
              }
              java.util.Arrays.fill(generation, round);
            }
          } catch (Throwable t) {
            failed.set(t);
          }
        }, "direct-writer");
        writer.start();
        for (int cut = 0; cut < 5 && failed.get() == null; cut++) {
          Thread.sleep(100);
          f.server.sessions().get(s.sessionId()).connection().close();
        }
        Thread.sleep(200);
        stop.set(true);
        writer.join(120_000);
        if (failed.get() != null) {
          throw new AssertionError("a direct write across the cuts failed", failed.get());
        }
        assertTrue(s.stats().reconnects() >= 1, "the cuts were reconnected");
        assertEquals("shm", s.transport());
      }
      byte[] back = java.nio.file.Files.readAllBytes(f.export.resolve("busy"));
      for (int b = 0; b < blocks; b++) {
        int want = generation[b] * 1000 + b;
        assertEquals(want, ByteBuffer.wrap(back, b * size, 4).getInt(), "block " + b + " holds the last round's data");
      }
      s.close(file);
    }
  }

  @Test
  void tcpStays() throws Exception {
    try (ServerFixture f = new ServerFixture(dir)) {
      DafsSession s = f.connect(ClientOptions.defaults().withTransport("tcp"));
      assertEquals("tcp", s.transport());
      roundTrip(s);
    }
  }

  @Test
  void aBadSettingNamesItself() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClientOptions.defaults().withTransport("rdma-ish"));
    assertTrue(e.getMessage().contains("transport must be auto, tcp or shm, not 'rdma-ish'"), e.getMessage());
  }

  /** Inline and direct writes and reads, checked byte for byte. */
  private static void roundTrip(DafsSession s) throws Exception {
    OpenFile f = s.open(s.root(), "data", OpenMode.readWrite().create(0644));
    byte[] data = new byte[3 << 20];
    new Random(7).nextBytes(data);
    assertEquals(100_000, s.write(f, 0, ByteBuffer.wrap(data, 0, 100_000)));
    try (Region r = s.allocate(4 << 20)) {
      r.buffer().put(data, 100_000, data.length - 100_000);
      assertEquals(data.length - 100_000, s.writeDirect(f, 100_000, r, 0, data.length - 100_000));
      ByteBuffer zero = r.buffer();
      zero.put(new byte[zero.remaining()]);
      assertEquals(data.length, s.readDirect(f, 0, r, 5, data.length));
      byte[] back = new byte[data.length];
      r.buffer().position(5).get(back);
      assertArrayEquals(data, back);
    }
    ByteBuffer inline = ByteBuffer.allocate(4096);
    assertEquals(4096, s.read(f, 12_345, inline));
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 12_345, 12_345 + 4096), inline.array());
    s.close(f);
  }
}
