package org.cachedafs.delegation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The server's delegation table, every transition on a fake clock. */
class DelegationTableTest {
  static final long LEASE_MS = 1000;
  FakeTicker ticker;
  DelegationTable<String, String> table;

  @BeforeEach
  void setUp() {
    ticker = new FakeTicker();
    AtomicLong ids = new AtomicLong(100);
    table = new DelegationTable<>(ticker, TimeUnit.MILLISECONDS.toNanos(LEASE_MS), ids::incrementAndGet);
  }

  Grant<String, String> open(String file, String holder, boolean write) {
    table.opened(file, holder, true, write);
    return table.grant(file, holder, write, false);
  }

  // --- grant policy ----------------------------------------------------------------------------

  @Test
  void aReadDelegationWhenNoOtherClientWritesAndReadDelegationsCoexist() {
    Grant<String, String> a = open("f", "A", false);
    assertEquals(DelegationType.READ, a.type());
    Grant<String, String> b = open("f", "B", false);
    assertEquals(DelegationType.READ, b.type());
    assertEquals(2, table.size());
  }

  @Test
  void noReadDelegationWhileAnotherClientHasTheFileOpenForWriting() {
    table.opened("f", "W", false, true);
    assertNull(open("f", "A", false));
    table.closed("f", "W", false, true);
    assertNotNull(open("f", "A", false), "after the writer closed");
  }

  @Test
  void aWriteDelegationOnlyWhenNoOtherClientHasTheFileOpenAtAll() {
    table.opened("f", "R", true, false);
    assertNull(open("f", "A", true));
    table.closed("f", "R", true, false);
    Grant<String, String> w = open("f", "A", true);
    assertEquals(DelegationType.WRITE, w.type());
    assertNull(open("f", "B", false), "a WRITE delegation excludes every other");
  }

  @Test
  void aHoldersOwnOpensDoNotStandInItsWay() {
    table.opened("f", "A", true, true);
    assertEquals(DelegationType.WRITE, open("f", "A", true).type());
  }

  @Test
  void theSameHolderGetsTheSameDelegationAgain() {
    Grant<String, String> first = open("f", "A", true);
    assertSame(first, open("f", "A", true));
    assertSame(first, open("f", "A", false));
  }

  @Test
  void aReclaimKeepsItsIdAndTypeAndIsRefusedWhenItDoesNotFit() {
    Grant<String, String> a = table.reclaim("f", "A", 7, DelegationType.READ);
    assertEquals(new Grant<>(7L, "f", "A", DelegationType.READ), a);
    assertSame(a, table.reclaim("f", "A", 7, DelegationType.READ), "the same reclaim again gets the same grant");
    assertNull(table.reclaim("f", "A", 7, DelegationType.WRITE), "not with another type");
    assertNull(table.reclaim("g", "B", 7, DelegationType.READ), "an id is one delegation's");
    assertNull(table.reclaim("f", "A", 8, DelegationType.READ), "one delegation per holder and file");
    assertEquals(DelegationType.READ, table.reclaim("f", "B", 9, DelegationType.READ).type(), "READ delegations share a file");
    assertNull(table.reclaim("f", "C", 10, DelegationType.WRITE), "a WRITE delegation excludes the others");
    assertEquals(DelegationType.WRITE, table.reclaim("g", "C", 10, DelegationType.WRITE).type());
    assertNull(table.reclaim("g", "D", 11, DelegationType.READ), "and is excluded by them");
    assertSame(table.held("f", "A"), table.grant("f", "A", false, false), "a reclaimed delegation is held as a granted one");
  }

  @Test
  void aClientMayRefuse() {
    table.opened("f", "A", true, false);
    assertNull(table.grant("f", "A", false, true));
    assertEquals(0, table.size());
  }

  @Test
  void nothingIsGrantedWhileADelegationOnTheFileIsRecalled() {
    open("f", "A", false);
    table.check("f", "C", FileAccess.WRITE_ATTRIBUTES);
    table.closed("f", "A", true, false);
    assertNull(open("f", "B", false));
  }

  // --- conflicts -------------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(FileAccess.class)
  void conflictMatrix(FileAccess access) {
    open("r", "A", false);
    open("w", "A", true);
    boolean recallsRead = !table.check("r", "B", access).isNone();
    boolean recallsWrite = !table.check("w", "B", access).isNone();
    assertTrue(recallsWrite, "every access by another client recalls a WRITE delegation: " + access);
    boolean changes = switch (access) {
      case OPEN_WRITE, WRITE_DATA, WRITE_ATTRIBUTES, NAMESPACE, LOCK_EXCLUSIVE -> true;
      default -> false;
    };
    assertEquals(changes, recallsRead, access + " against a READ delegation");
    assertTrue(table.check("r", "A", access).isNone(), "a holder never conflicts with itself");
    assertTrue(table.check("w", "A", access).isNone(), "a holder never conflicts with itself");
  }

  // --- recall, return, revoke ------------------------------------------------------------------

  @Test
  void noGrantWhileOperationsWaitOnARecallOfTheFile() {
    Grant<String, String> g = open("f", "A", true);
    Conflict<String, String> c = table.check("f", "B", FileAccess.OPEN_READ);
    table.returned(g.id(), "A");
    assertTrue(c.resolved().isDone());
    // Before B's open runs again, A reopens: it must not get a delegation that B would then wait on.
    assertNull(open("f", "A", true));
    table.closed("f", "A", true, true);
    table.closed("f", "A", true, true);
    assertNotNull(open("f", "B", false), "B's re-run itself may be granted one");
    table.waitOver("f", "B");
    assertNotNull(open("f", "C", false), "once B's operation ran, others are granted again (READ delegations coexist)");
  }

  @Test
  void theOldHolderIsFencedBeforeWaitersAreReleased() {
    Grant<String, String> g = open("f", "A", true);
    Conflict<String, String> c = table.check("f", "B", FileAccess.OPEN_WRITE);
    ticker.advance(LEASE_MS, TimeUnit.MILLISECONDS);
    List<Boolean> doneWhenFenced = new java.util.ArrayList<>();
    table.expire(revoked -> doneWhenFenced.add(c.resolved().isDone()));
    assertEquals(List.of(false), doneWhenFenced);
    assertTrue(c.resolved().isDone());
    assertTrue(table.isRevoked(g.id(), "A"));
  }

  @Test
  void aRecallResolvesWhenTheHolderReturns() {
    Grant<String, String> g = open("f", "A", true);
    Conflict<String, String> c = table.check("f", "B", FileAccess.OPEN_READ);
    assertEquals(List.of(g), c.toRecall());
    assertFalse(c.resolved().isDone());
    ticker.advance(LEASE_MS / 2, TimeUnit.MILLISECONDS);
    assertEquals(ReturnResult.RETURNED, table.returned(g.id(), "A"));
    assertTrue(c.resolved().isDone());
    assertTrue(table.check("f", "B", FileAccess.OPEN_READ).isNone());
    assertEquals(ReturnResult.UNKNOWN, table.returned(g.id(), "A"), "returned once");
  }

  @Test
  void anUnreturnedRecallIsRevokedAtTheLeaseAndNotBefore() {
    Grant<String, String> g = open("f", "A", true);
    Conflict<String, String> c = table.check("f", "B", FileAccess.OPEN_WRITE);
    ticker.advance(LEASE_MS - 1, TimeUnit.MILLISECONDS);
    assertTrue(table.expire().isEmpty());
    assertFalse(c.resolved().isDone(), "the conflicting request does not proceed early");
    assertEquals(ticker.read() + TimeUnit.MILLISECONDS.toNanos(1), table.nextDeadline());
    ticker.advance(1, TimeUnit.MILLISECONDS);
    assertEquals(List.of(g), table.expire());
    assertTrue(c.resolved().isDone(), "and it proceeds once the lease has passed");
    assertTrue(table.isRevoked(g.id(), "A"));
    assertEquals(ReturnResult.REVOKED, table.returned(g.id(), "A"), "a late return learns it was revoked");
    assertEquals(ReturnResult.UNKNOWN, table.returned(g.id(), "B"), "nobody else's to return");
    assertEquals(Long.MAX_VALUE, table.nextDeadline());
  }

  @Test
  void aDoubleRecallSendsOneCallbackAndBothWaitersResolveTogether() {
    open("f", "A", true);
    Conflict<String, String> first = table.check("f", "B", FileAccess.WRITE_DATA);
    Conflict<String, String> second = table.check("f", "C", FileAccess.NAMESPACE);
    assertEquals(1, first.toRecall().size());
    assertTrue(second.toRecall().isEmpty(), "already being recalled: no second callback");
    assertFalse(second.resolved().isDone());
    ticker.advance(LEASE_MS / 2, TimeUnit.MILLISECONDS);
    Conflict<String, String> third = table.check("f", "B", FileAccess.WRITE_DATA);
    assertTrue(third.toRecall().isEmpty());
    ticker.advance(LEASE_MS / 2, TimeUnit.MILLISECONDS);
    assertEquals(1, table.expire().size(), "the deadline runs from the first recall");
    assertTrue(first.resolved().isDone() && second.resolved().isDone() && third.resolved().isDone());
  }

  @Test
  void aRecallCrossingAnEarlyReturn() {
    Grant<String, String> g = open("f", "A", true);
    // The holder sent DELEGRETURN of its own accord; before it arrives, another client conflicts.
    Conflict<String, String> c = table.check("f", "B", FileAccess.OPEN_READ);
    assertEquals(1, c.toRecall().size());
    assertEquals(ReturnResult.RETURNED, table.returned(g.id(), "A"));
    assertTrue(c.resolved().isDone());
    // The holder then answers the recall it received with a second return: unknown, harmless.
    assertEquals(ReturnResult.UNKNOWN, table.returned(g.id(), "A"));
  }

  @Test
  void theHoldersOwnWritesDuringARecallAreNotConflicts() {
    open("f", "A", true);
    Conflict<String, String> c = table.check("f", "B", FileAccess.OPEN_READ);
    assertTrue(table.check("f", "A", FileAccess.WRITE_DATA).isNone(), "the holder flushes while recalled");
    assertFalse(c.resolved().isDone());
  }

  @Test
  void aHolderWhoseSessionEndsLosesEverythingAtOnce() {
    Grant<String, String> g = open("f", "A", true);
    open("g", "A", false);
    Conflict<String, String> c = table.check("f", "B", FileAccess.OPEN_READ);
    assertEquals(2, table.holderGone("A").size());
    assertTrue(c.resolved().isDone());
    assertEquals(0, table.size());
    assertEquals(ReturnResult.UNKNOWN, table.returned(g.id(), "A"));
    // B's open runs again (its own wait does not keep it from a grant)
    assertEquals(DelegationType.WRITE, open("f", "B", true).type(), "A's opens went with it");
  }

  @Test
  void aLapsedHolderKeepsItsDelegationsUntilWantedAndThenLosesThemAtOnce() {
    Grant<String, String> recalled = open("f", "A", true);
    Grant<String, String> quiet = open("g", "A", true);
    Grant<String, String> wanted = open("h", "A", true);
    Conflict<String, String> waiting = table.check("f", "B", FileAccess.OPEN_READ);
    ticker.advance(LEASE_MS / 4, TimeUnit.MILLISECONDS);
    assertTrue(table.holderLapsed("A"), "a recall under way is due now");
    assertEquals(List.of(recalled), table.expire(), "revoked without waiting for the rest of its lease");
    assertTrue(waiting.resolved().isDone());
    assertEquals(2, table.size(), "what nobody wants is kept");
    Conflict<String, String> now = table.check("h", "C", FileAccess.WRITE_DATA);
    assertEquals(List.of(wanted), now.toRecall());
    assertEquals(List.of(wanted), table.expire(), "a conflict with a lapsed holder is due at once");
    assertTrue(now.resolved().isDone());
    assertTrue(table.isRevoked(wanted.id(), "A"));
    table.holderBack("A");
    Conflict<String, String> later = table.check("g", "C", FileAccess.OPEN_READ);
    assertEquals(List.of(quiet), later.toRecall());
    assertTrue(table.expire().isEmpty(), "back: recalled and waited for like anyone's");
    assertEquals(ReturnResult.RETURNED, table.returned(quiet.id(), "A"));
    assertTrue(later.resolved().isDone());
  }

  @Test
  void aLapsedHolderWhoseSessionEndsIsForgotten() {
    open("f", "A", true);
    table.holderLapsed("A");
    table.holderGone("A");
    open("f", "A", true);
    Conflict<String, String> c = table.check("f", "B", FileAccess.OPEN_READ);
    assertTrue(table.expire().isEmpty(), "a new session of the same holder is not lapsed");
    assertFalse(c.resolved().isDone());
  }

  @Test
  void aRemovedFileTakesItsDelegationsWithIt() {
    open("f", "A", false);
    open("f", "B", false);
    assertEquals(2, table.fileGone("f").size());
    assertEquals(0, table.size());
  }

  @Test
  void recallsInProgressAreListedForResendingAfterAReconnect() {
    Grant<String, String> g = open("f", "A", true);
    open("g", "A", true);
    table.check("f", "B", FileAccess.OPEN_READ);
    assertEquals(List.of(g), table.recalling("A"));
    assertTrue(table.recalling("B").isEmpty());
    assertSame(g, table.held("f", "A"));
    assertNull(table.held("f", "B"));
  }

  // --- opens outside the server (the local-writer fence) ---------------------------------------

  @Test
  void aLocalOpenRecallsEveryDelegationEvenReadOnesAndWaitsForAllOfThem() {
    Grant<String, String> a = open("f", "A", false);
    Grant<String, String> b = open("f", "B", false);
    Conflict<String, String> c = table.localOpened("f");
    assertEquals(List.of(a, b), c.toRecall(), "a local open may write: READ delegations come back too");
    table.returned(a.id(), "A");
    assertFalse(c.resolved().isDone(), "B's is still out");
    table.returned(b.id(), "B");
    assertTrue(c.resolved().isDone());
  }

  @Test
  void noDelegationWhileALocalOpenIsCountedAndOneAgainWhenTheClosesBalanceIt() {
    assertTrue(table.localOpened("f").isNone(), "nothing to recall");
    table.localOpened("f");
    assertEquals(2, table.localOpens("f"));
    assertNull(open("f", "A", false));
    assertEquals(1, table.localClosed("f", 1));
    assertNull(open("f", "A", false), "one local open is left");
    assertEquals(0, table.localClosed("f", 5), "never below zero");
    assertEquals(0, table.localClosed("f", 1), "a close never counted changes nothing");
    assertNotNull(open("f", "A", false));
  }

  @Test
  void aLocalOpenOfAFileBeingRecalledWaitsOnTheSameRecallAndARevocationLetsItGo() {
    Grant<String, String> a = open("f", "A", true);
    Conflict<String, String> first = table.check("f", "B", FileAccess.OPEN_READ);
    Conflict<String, String> local = table.localOpened("f");
    assertTrue(local.toRecall().isEmpty(), "no second recall");
    assertFalse(local.resolved().isDone());
    ticker.advance(LEASE_MS, TimeUnit.MILLISECONDS);
    assertEquals(List.of(a), table.expire());
    assertTrue(first.resolved().isDone());
    assertTrue(local.resolved().isDone(), "at most a lease");
  }

  @Test
  void aLocalChangeAfterTheFactRecallsWithoutCountingAnOpen() {
    Grant<String, String> a = open("f", "A", false);
    assertEquals(List.of(a), table.localChanged("f").toRecall());
    assertEquals(0, table.localOpens("f"));
    table.returned(a.id(), "A");
    assertNotNull(open("f", "B", false), "nobody outside the server holds the file open");
  }

  @Test
  void aRemovedFileForgetsItsLocalOpens() {
    table.localOpened("f");
    table.fileGone("f");
    assertEquals(0, table.localOpens("f"));
  }
}
