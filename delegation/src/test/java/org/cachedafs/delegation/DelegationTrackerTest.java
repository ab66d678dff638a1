package org.cachedafs.delegation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.cachedafs.delegation.DelegationTracker.Held;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client's tracker, every transition and the races of a recall, on a fake clock. */
class DelegationTrackerTest {
  FakeTicker ticker;
  List<String> events;
  CompletableFuture<Void> flush;
  CompletableFuture<ReturnResult> returnReply;
  DelegationTracker<String> tracker;

  @BeforeEach
  void setUp() {
    ticker = new FakeTicker();
    events = new ArrayList<>();
    flush = new CompletableFuture<>();
    returnReply = new CompletableFuture<>();
    tracker = new DelegationTracker<>(ticker, TimeUnit.SECONDS.toNanos(30), new DelegationTracker.Listener<>() {
      @Override
      public CompletableFuture<Void> onRecall(Held<String> d) {
        events.add("flush " + d.id());
        return flush;
      }

      @Override
      public void onRevoked(Held<String> d) {
        events.add("revoked " + d.id());
      }
    }, d -> {
      events.add("return " + d.id());
      return returnReply;
    });
  }

  @Test
  void grantThenUse() {
    tracker.granted(7, "f", DelegationType.WRITE);
    assertEquals(DelegationTracker.State.HELD, tracker.state(7));
    Held<String> h = tracker.tryUse("f");
    assertNotNull(h);
    tracker.endUse(h);
    assertNull(tracker.tryUse("other"));
    tracker.granted(7, "f", DelegationType.WRITE);
    assertEquals(1, tracker.stats().granted(), "the same grant twice counts once");
  }

  @Test
  void aRecallFlushesThenReturnsAndMeasuresTheTime() {
    tracker.granted(7, "f", DelegationType.WRITE);
    tracker.recall(7);
    assertEquals(List.of("flush 7"), events);
    assertNull(tracker.tryUse("f"), "no new cached use after a recall");
    ticker.advance(3, TimeUnit.MILLISECONDS);
    flush.complete(null);
    assertEquals(List.of("flush 7", "return 7"), events, "the return follows the flush");
    assertEquals(DelegationTracker.State.RETURNING, tracker.state(7));
    ticker.advance(2, TimeUnit.MILLISECONDS);
    returnReply.complete(ReturnResult.RETURNED);
    assertNull(tracker.state(7));
    assertEquals(1, tracker.stats().returns());
    assertEquals(TimeUnit.MILLISECONDS.toNanos(5), tracker.stats().recallToReturnNanos());
  }

  @Test
  void aRecallDuringAnInFlightWriteWaitsForIt() {
    tracker.granted(7, "f", DelegationType.WRITE);
    Held<String> write = tracker.tryUse("f");
    Held<String> read = tracker.tryUse("f");
    tracker.recall(7);
    assertTrue(events.isEmpty(), "the flush waits for the uses in flight");
    tracker.endUse(write);
    assertTrue(events.isEmpty());
    tracker.endUse(read);
    assertEquals(List.of("flush 7"), events, "and then covers what they wrote");
    flush.complete(null);
    returnReply.complete(ReturnResult.RETURNED);
    assertEquals(List.of("flush 7", "return 7"), events);
  }

  @Test
  void aDoubleRecallFlushesAndReturnsOnce() {
    tracker.granted(7, "f", DelegationType.READ);
    tracker.recall(7);
    tracker.recall(7);
    flush.complete(null);
    tracker.recall(7);
    returnReply.complete(ReturnResult.RETURNED);
    tracker.recall(7); // very late: unknown now, remembered briefly, harmless
    assertEquals(List.of("flush 7", "return 7"), events);
    assertEquals(1, tracker.stats().recalls());
  }

  @Test
  void aRecallCrossingAnEarlyReturnIsIgnored() {
    tracker.granted(7, "f", DelegationType.WRITE);
    tracker.returnEarly("f");
    assertEquals(List.of("flush 7"), events, "an early return flushes first, like a recall");
    tracker.recall(7);
    flush.complete(null);
    returnReply.complete(ReturnResult.RETURNED);
    assertEquals(List.of("flush 7", "return 7"), events);
    assertEquals(0, tracker.stats().recalls(), "not counted as a recall");
  }

  @Test
  void anEarlyReturnWaitsForUsesInFlight() {
    tracker.granted(7, "f", DelegationType.WRITE);
    Held<String> use = tracker.tryUse("f");
    tracker.returnEarly("f");
    assertTrue(events.isEmpty());
    tracker.endUse(use);
    assertEquals(List.of("flush 7"), events, "the write in flight is flushed before the return");
  }

  @Test
  void aLateOpenReplyDoesNotBringBackAReturnedDelegation() {
    tracker.granted(7, "f", DelegationType.WRITE);
    tracker.recall(7);
    flush.complete(null);
    returnReply.complete(ReturnResult.RETURNED);
    tracker.granted(7, "f", DelegationType.WRITE); // a second open's reply, processed late
    assertNull(tracker.held("f"));
    ticker.advance(31, TimeUnit.SECONDS);
    tracker.granted(7, "f", DelegationType.WRITE);
    assertNotNull(tracker.held("f"), "ids are remembered for a while, not for ever");
  }

  @Test
  void aRecallThatOvertakesItsGrantIsAppliedWhenTheGrantArrives() {
    tracker.recall(7);
    assertTrue(events.isEmpty());
    tracker.granted(7, "f", DelegationType.WRITE);
    assertEquals(List.of("flush 7"), events);
    assertNull(tracker.held("f"));
  }

  @Test
  void anEarlyRecallIsForgottenAfterItsTimeToLive() {
    tracker.recall(7);
    ticker.advance(31, TimeUnit.SECONDS);
    tracker.granted(8, "g", DelegationType.READ);
    tracker.granted(7, "f", DelegationType.WRITE);
    assertNotNull(tracker.held("f"));
    assertTrue(events.isEmpty());
  }

  @Test
  void aReturnAnsweredRevokedTellsTheListener() {
    tracker.granted(7, "f", DelegationType.WRITE);
    tracker.recall(7);
    flush.complete(null);
    returnReply.complete(ReturnResult.REVOKED);
    assertEquals(List.of("flush 7", "return 7", "revoked 7"), events);
    assertEquals(1, tracker.stats().revocations());
    assertNull(tracker.state(7));
  }

  @Test
  void aUseRefusedByTheServerRevokes() {
    tracker.granted(7, "f", DelegationType.WRITE);
    tracker.revoked(7);
    assertEquals(List.of("revoked 7"), events);
    assertNull(tracker.held("f"));
    tracker.recall(7);
    assertEquals(List.of("revoked 7"), events);
  }

  @Test
  void aFailedFlushStillReturns() {
    tracker.granted(7, "f", DelegationType.WRITE);
    tracker.recall(7);
    flush.completeExceptionally(new java.io.IOException("disk full"));
    assertEquals(List.of("flush 7", "return 7"), events);
  }

  @Test
  void aReturnThatCannotBeSentForgetsTheDelegation() {
    tracker.granted(7, "f", DelegationType.WRITE);
    tracker.recall(7);
    flush.complete(null);
    returnReply.completeExceptionally(new java.io.IOException("connection lost"));
    assertNull(tracker.state(7));
    assertEquals(0, tracker.stats().returns());
  }

  @Test
  void aLostSessionRevokesEverything() {
    tracker.granted(7, "f", DelegationType.WRITE);
    tracker.granted(8, "g", DelegationType.READ);
    tracker.sessionLost();
    assertEquals(2, events.size());
    assertTrue(events.contains("revoked 7") && events.contains("revoked 8"));
    assertNull(tracker.held("f"));
  }

  @Test
  void aNewGrantForTheSameFileAfterAReturnIsUsable() {
    tracker.granted(7, "f", DelegationType.READ);
    tracker.returnEarly("f");
    flush.complete(null);
    returnReply.complete(ReturnResult.RETURNED);
    tracker.granted(9, "f", DelegationType.WRITE);
    assertEquals(9, tracker.held("f").id());
  }
}
