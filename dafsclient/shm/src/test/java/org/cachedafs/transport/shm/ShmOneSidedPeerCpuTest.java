package org.cachedafs.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.DomainStats;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteRegion;
import org.junit.jupiter.api.Test;

/**
 * One-sided operations run no code of the peer: while the peer's threads sleep, thousands of writes
 * and reads into its memory move neither their CPU time nor any of its counters.
 */
class ShmOneSidedPeerCpuTest {
  private static final int OPS = 10_000;
  private static final int BLOCK = 4096;
  private static final int BLOCKS = 256;

  @Test
  void oneSidedWritesAndReadsCostThePeerNoCpu() throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    assertTrue(mx.isThreadCpuTimeSupported());
    mx.setThreadCpuTimeEnabled(true);
    try (ShmPair pair = new ShmPair()) {
      Region target = pair.serverDomain.allocate(BLOCK * BLOCKS, Access.REMOTE_READ_WRITE);
      RemoteRegion name = target.remote();
      try (ShmPair.Client client = pair.connect()) {
        ShmConnection peer = client.server;
        Region source = client.domain.allocate(BLOCK * BLOCKS, Access.LOCAL);
        Region back = client.domain.allocate(BLOCK, Access.LOCAL);
        byte[] data = new byte[BLOCK * BLOCKS];
        new Random(5).nextBytes(data);
        source.buffer().put(data);
        // Some traffic first, so that the peer's threads have run; then let them fall asleep.
        client.connection.send(ByteBuffer.wrap(new byte[] {1}));
        pair.atServer.poll(10, TimeUnit.SECONDS);
        for (int i = 0; i < 2000; i++) { // warms up the operation paths
          client.connection.write(source, 0, name, 0, BLOCK).get();
        }
        assertTrue(Procfs.eventually(peer::receiverAsleep), "the peer's receive thread sleeps on the doorbell");
        Map<String, Long> before = settledCpu(mx, peer);
        List<Long> countersBefore = counters(peer, pair.serverDomain.stats());

        long start = System.nanoTime();
        for (int i = 0; i < OPS; i++) {
          int at = (i % BLOCKS) * BLOCK;
          client.connection.write(source, at, name, at, BLOCK).get();
        }
        long writes = System.nanoTime() - start;
        start = System.nanoTime();
        for (int i = 0; i < OPS; i++) {
          int at = (i % BLOCKS) * BLOCK;
          client.connection.read(back, 0, name, at, BLOCK).get();
          if (i % 997 == 0) {
            byte[] got = new byte[BLOCK];
            back.buffer().get(got);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, at, at + BLOCK), got, "read " + i);
          }
        }
        long reads = System.nanoTime() - start;

        assertEquals(before, peerCpu(mx, peer), "the peer's shm threads used no CPU for " + 2 * OPS + " one-sided operations");
        assertEquals(countersBefore, counters(peer, pair.serverDomain.stats()), "and none of its counters moved");
        assertTrue(peer.receiverAsleep(), "its receive thread never woke");
        byte[] landed = new byte[BLOCK * BLOCKS];
        target.buffer().get(landed);
        assertArrayEquals(data, landed, "every write landed in the peer's memory");
        System.out.printf("shm one-sided 4 KiB: write %.2f us, read %.2f us (informal, this machine)%n",
            writes / 1000.0 / OPS, reads / 1000.0 / OPS);
      }
    }
  }

  /** CPU time of the peer connection's threads, once it has stopped moving. */
  private static Map<String, Long> settledCpu(ThreadMXBean mx, ShmConnection peer) throws InterruptedException {
    Map<String, Long> last = peerCpu(mx, peer);
    for (int i = 0; i < 100; i++) {
      Thread.sleep(20);
      Map<String, Long> now = peerCpu(mx, peer);
      if (now.equals(last)) {
        return now;
      }
      last = now;
    }
    return last;
  }

  /** CPU time of every shm thread of the peer's connection, found by name. */
  private static Map<String, Long> peerCpu(ThreadMXBean mx, ShmConnection peer) {
    Map<String, Long> cpu = new LinkedHashMap<>();
    String rx = "dafs-shm-rx-" + peer.number();
    String tx = "dafs-shm-tx-" + peer.number();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(rx) || t.getName().equals(tx)) {
        cpu.put(t.getName(), mx.getThreadCpuTime(t.getId()));
      }
    }
    assertTrue(cpu.containsKey(rx), "found the peer's receive thread " + rx);
    return cpu;
  }

  private static List<Long> counters(ShmConnection peer, DomainStats stats) {
    return List.of(peer.messagesReceived(), peer.messagesSent(), peer.controlRecordsReceived(), peer.wakeups(),
        stats.placedBytes(), stats.registrations(), stats.largestMessage());
  }

  /** Answers each message with itself from the receive thread, while {@code more} says so. */
  private static ConnectionHandler echoing(java.util.function.BooleanSupplier more) {
    return new ConnectionHandler() {
      @Override
      public void onMessage(Connection c, Received r) {
        if (!more.getAsBoolean()) {
          r.release();
          return;
        }
        try {
          c.send(r.detach());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {}
    };
  }

  /**
   * Not a check: prints the round trip of a small message between two receive threads that answer
   * each other from their handlers (shm's send never waits, so that is safe here), and through an
   * echo on another thread, for the record.
   */
  @Test
  void messageRoundTripTime() throws Exception {
    ShmTransport shm = new ShmTransport();
    int rounds = 20_000;
    try (ShmDomain a = (ShmDomain) shm.openDomain(); ShmDomain b = (ShmDomain) shm.openDomain()) {
      Listener l = shm.listen(shm.localAddress(), a, echoing(() -> true));
      CountDownLatch done = new CountDownLatch(1);
      long[] times = new long[2];
      AtomicInteger count = new AtomicInteger();
      Connection c = shm.connect(l.localAddress(), b, echoing(() -> {
        int n = count.incrementAndGet();
        if (n == rounds / 2) {
          times[0] = System.nanoTime();
        }
        if (n == rounds) {
          times[1] = System.nanoTime();
          done.countDown();
        }
        return n < rounds;
      }));
      c.send(ByteBuffer.allocate(64));
      assertTrue(done.await(60, TimeUnit.SECONDS));
      System.out.printf("shm message round trip (64 bytes, handler to handler): %.1f us (informal; the client slept on the doorbell %d times in %d)%n",
          (times[1] - times[0]) / 1000.0 / (rounds - rounds / 2), ((ShmConnection) c).wakeups(), rounds);
      c.close();
      l.close();
    }
    try (ShmPair pair = new ShmPair(); ShmPair.Client client = pair.connect()) {
      ShmConnection server = client.server;
      int echoes = 5_000;
      Thread echo = new Thread(() -> {
        try {
          for (int i = 0; i < echoes; i++) {
            server.send(ByteBuffer.wrap(pair.atServer.take()));
          }
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }, "echo");
      echo.setDaemon(true);
      echo.start();
      long start = 0;
      for (int i = 0; i < echoes; i++) {
        if (i == echoes / 2) {
          start = System.nanoTime();
        }
        client.connection.send(ByteBuffer.allocate(64));
        assertEquals(64, client.received.take().length);
      }
      System.out.printf("shm message round trip (64 bytes, through an echo thread and back to the caller): %.1f us (informal)%n",
          (System.nanoTime() - start) / 1000.0 / (echoes - echoes / 2));
    }
  }
}
