package org.cachedafs.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.ConnectionLimits;
import org.junit.jupiter.api.Test;

/**
 * {@link ConnectionLimits} on shm: a peer that stops consuming its messages costs the sender a
 * bounded queue and a bounded time, never a waiting thread.
 */
class ShmLimitsTest {
  private static final int MESSAGE = 64 * 1024;
  private static final long HIGH_WATER = 512 * 1024;
  private static final long HARD_LIMIT = 4L << 20;

  /** Blocks the receive thread of a client until released: a peer that stops reading. */
  private static Runnable stuckUntil(CountDownLatch release) {
    return () -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  private static ByteBuffer message(int i) {
    return ByteBuffer.allocate(MESSAGE).putInt(0, i);
  }

  /** Sends numbered messages until the queue is above its high water; never waits, whatever the peer does. */
  private static int fillPastHighWater(ShmConnection c) throws IOException {
    return fillPastHighWater(c, 0);
  }

  /**
   * Fills past the high water with a stuck peer and keeps it there: the peer's receive thread may still
   * take a batch off the ring before its handler sticks, which makes room, so the queue is topped up
   * until it stays over the high water. Returns how many were sent.
   */
  private static int fillUntilItStaysOverHighWater(ShmConnection c) throws IOException, InterruptedException {
    int sent = fillPastHighWater(c);
    Thread.sleep(50);
    while (c.isWritable()) {
      sent = fillPastHighWater(c, sent);
      Thread.sleep(50);
    }
    return sent;
  }

  /** As {@link #fillPastHighWater(ShmConnection)}, numbering from {@code first}; returns the next number. */
  private static int fillPastHighWater(ShmConnection c, int first) throws IOException {
    int sent = first;
    while (c.isWritable()) {
      c.send(message(sent++));
    }
    return sent;
  }

  @Test
  void aPeerThatConsumesNothingIsClosedAfterTheStallTimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (ShmPair pair = new ShmPair(new ConnectionLimits(HIGH_WATER, HARD_LIMIT, Duration.ofSeconds(1)));
        ShmPair.Client client = pair.connect(new byte[0], stuckUntil(release))) {
      ShmConnection server = client.server;
      int sent = fillUntilItStaysOverHighWater(server);
      assertTrue(sent * (long) MESSAGE > Ring.RING_BYTES, "the ring filled, then the queue passed the high water");
      CompletableFuture<Void> writable = new CompletableFuture<>();
      server.whenWritable(() -> writable.complete(null));
      assertFalse(writable.isDone());
      ShmPair.Closed closed = pair.closedCauses.poll(10, TimeUnit.SECONDS);
      assertNotNull(closed, "the stalled connection closed");
      assertTrue(closed.cause() instanceof ShmSender.PeerStalled, String.valueOf(closed.cause()));
      writable.get(1, TimeUnit.SECONDS); // a waiter is told when the connection closes
      release.countDown();
    }
  }

  @Test
  void aPeerThatLetsTooMuchPileUpIsClosedAtTheHardLimit() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (ShmPair pair = new ShmPair(new ConnectionLimits(HIGH_WATER, HARD_LIMIT, Duration.ofSeconds(30)));
        ShmPair.Client client = pair.connect(new byte[0], stuckUntil(release))) {
      ShmConnection server = client.server;
      IOException refused = null;
      int sent = 0;
      while (refused == null && sent < 10_000) {
        try {
          server.send(message(sent));
          sent++;
        } catch (IOException e) {
          refused = e;
        }
      }
      assertTrue(refused instanceof ShmSender.PeerStalled, "a send past the hard limit fails: " + refused);
      assertTrue(sent * (long) MESSAGE <= Ring.RING_BYTES + HARD_LIMIT, "no more than the ring and the hard limit were taken: " + sent);
      assertFalse(server.isOpen(), "and the connection closed");
      release.countDown();
    }
  }

  @Test
  void anAcceptingSideStopsReadingWhileItsRepliesPileUpAndResumesWhenThePeerCatchesUp() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (ShmPair pair = new ShmPair(new ConnectionLimits(HIGH_WATER, HARD_LIMIT, Duration.ofSeconds(30)));
        ShmPair.Client client = pair.connect(new byte[0], stuckUntil(release))) {
      ShmConnection server = client.server;
      int sent = fillUntilItStaysOverHighWater(server);
      CompletableFuture<Void> writable = new CompletableFuture<>();
      server.whenWritable(() -> writable.complete(null));
      // The client still sends; the server, over its high water, does not take it in.
      for (int i = 0; i < 10; i++) {
        client.connection.send(ByteBuffer.wrap(new byte[] {(byte) i}));
      }
      Thread.sleep(200);
      assertEquals(0, server.messagesReceived(), "the accepting side consumes nothing while its replies pile up");
      release.countDown();
      writable.get(10, TimeUnit.SECONDS);
      assertTrue(server.isWritable());
      for (int i = 0; i < sent; i++) {
        byte[] m = client.received.poll(10, TimeUnit.SECONDS);
        assertNotNull(m, "reply " + i + " arrived");
        assertEquals(i, ByteBuffer.wrap(m).getInt(), "in order");
      }
      for (int i = 0; i < 10; i++) {
        assertArrayEquals(new byte[] {(byte) i}, pair.atServer.poll(10, TimeUnit.SECONDS), "and then it reads the peer again");
      }
      assertTrue(server.isOpen() && client.connection.isOpen());
    }
  }
}
