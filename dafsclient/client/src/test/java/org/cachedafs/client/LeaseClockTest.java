package org.cachedafs.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The client's reckoning of its lease: held from a reply until a lease after its request was sent, then not until the next. */
class LeaseClockTest {
  static final int LEASE_MS = 300;

  static boolean becomes(LeaseClock c, boolean held, long withinMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(withinMillis);
    while (c.held() != held) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      Thread.sleep(1);
    }
    return true;
  }

  @Test
  void heldFromAReplyUntilALeaseAfterItsRequestWasSentThenAgainWithTheNextReply() throws Exception {
    LeaseClock c = new LeaseClock();
    c.leaseFrom(() -> LEASE_MS);
    assertFalse(c.held(), "nothing heard yet");
    long sent = System.nanoTime();
    c.heard(sent);
    c.start();
    assertTrue(c.held());
    Thread.sleep(LEASE_MS / 2);
    assertTrue(c.held(), "half a lease after the request");
    assertTrue(becomes(c, false, LEASE_MS), "lapsed once a lease has passed since the request was sent");
    long lapsedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
    assertTrue(lapsedAfter >= LEASE_MS && lapsedAfter < LEASE_MS + 100, "on time: " + lapsedAfter + " ms");
    c.heard(sent); // a late reply to that old request proves nothing new
    assertFalse(c.held());
    c.heard(System.nanoTime());
    assertTrue(c.held(), "a reply to a request sent since brings it back at once");
    assertTrue(becomes(c, false, 2L * LEASE_MS), "and it lapses again a lease later");
    c.stop();
  }

  @Test
  void repliesKeepItHeld() throws Exception {
    LeaseClock c = new LeaseClock();
    c.leaseFrom(() -> LEASE_MS);
    c.heard(System.nanoTime());
    c.start();
    for (int i = 0; i < 20; i++) {
      Thread.sleep(LEASE_MS / 6);
      c.heard(System.nanoTime());
      assertTrue(c.held());
    }
    c.stop();
    assertFalse(c.held(), "stopped: no longer held");
  }
}
