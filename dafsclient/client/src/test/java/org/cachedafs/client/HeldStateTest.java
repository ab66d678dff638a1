package org.cachedafs.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FileType;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.Test;

/**
 * What a session keeps to reclaim after a restart ({@link HeldState}), mirroring the server's rules,
 * and what an error means for a request sent again across one ({@link AcrossRestart}).
 */
class HeldStateTest {
  static final FileHandle F = new FileHandle(new byte[] {1});
  static final FileHandle G = new FileHandle(new byte[] {2});
  static final FileAttributes A = new FileAttributes(FileType.REGULAR, 0, 0100644, 1, 0, 0, 0, 0, 0, 0, 1, 0);

  static OpenFile open(FileHandle h, long stateId, int delegation, long delegationId) {
    return new OpenFile(h, stateId, OpenMode.readWrite(), A, delegation, delegationId);
  }

  static Set<LockRange> locks(HeldState s, FileHandle h) {
    return s.snapshot().locks().stream().filter(l -> l.handle().equals(h)).map(HeldState.Lock::range).collect(Collectors.toSet());
  }

  @Test
  void aLockReplacesTheSessionsOwnLocksOverItsRangeAndAnUnlockSplitsThem() {
    HeldState s = new HeldState();
    s.opened(open(F, 1, 0, 0));
    s.locked(F, new LockRange(0, 100, true));
    s.locked(F, new LockRange(40, 20, false));
    assertEquals(Set.of(new LockRange(0, 40, true), new LockRange(40, 20, false), new LockRange(60, 40, true)), locks(s, F));
    s.unlocked(F, new LockRange(10, 0, false)); // to the end
    assertEquals(Set.of(new LockRange(0, 10, true)), locks(s, F));
    s.locked(F, new LockRange(50, 0, true));
    s.unlocked(F, new LockRange(60, 10, true));
    assertEquals(Set.of(new LockRange(0, 10, true), new LockRange(50, 10, true), new LockRange(70, 0, true)), locks(s, F),
        "a range to the end, split, keeps running to the end");
    s.unlocked(F, new LockRange(0, 0, true));
    assertEquals(Set.of(), locks(s, F));
  }

  @Test
  void closingTheFilesLastOpenLetsGoOfItsLocksButNotOfItsDelegation() {
    HeldState s = new HeldState();
    s.opened(open(F, 1, Replies.Opened.DELEGATION_WRITE, 9));
    s.opened(open(F, 2, Replies.Opened.DELEGATION_WRITE, 9));
    s.opened(open(G, 3, 0, 0));
    s.locked(F, new LockRange(0, 1, true));
    s.locked(G, new LockRange(0, 1, true));
    s.closed(1);
    assertEquals(Set.of(new LockRange(0, 1, true)), locks(s, F), "another open of F is left");
    s.closed(2);
    assertEquals(Set.of(), locks(s, F), "the server released them with the last open");
    assertEquals(Set.of(new LockRange(0, 1, true)), locks(s, G));
    HeldState.Snapshot snap = s.snapshot();
    assertEquals(List.of(new HeldState.Open(3, G, 3, 0)), snap.opens());
    assertEquals(List.of(new HeldState.Delegation(9, F, Replies.Opened.DELEGATION_WRITE)), snap.delegations(), "a delegation outlives its opens");
    s.delegationGone(9);
    assertTrue(s.snapshot().delegations().isEmpty());
  }

  static Outstanding resent(Opcode op, Requests.Request body) {
    Outstanding o = new Outstanding(1, op, body, null);
    o.resentAfterRestart = true;
    return o;
  }

  @Test
  void aRemoveThatFoundNothingAfterARestartHadRunBefore() {
    CompletableFuture<?> r = AcrossRestart.outcome(resent(Opcode.REMOVE, new Requests.Entry(F, "x", 0, false)), new DafsException(Status.NOENT, "x"), null);
    assertEquals(Replies.Empty.INSTANCE, r.join());
    assertNull(AcrossRestart.outcome(resent(Opcode.REMOVE, new Requests.Entry(F, "x", 0, false)), new DafsException(Status.ACCES, "x"), null),
        "any other error is the server's answer");
    assertNull(AcrossRestart.outcome(resent(Opcode.CREATE, new Requests.Entry(F, "x", 0644, false)), new DafsException(Status.EXIST, "x"), null));
  }

  @Test
  void anExclusiveCreateThatFoundItsFileSaysItMayHaveMadeItItself() {
    CompletableFuture<?> r = AcrossRestart.outcome(resent(Opcode.OPEN, new Requests.Open(F, "x", 3, 0, Requests.Open.CREATE | Requests.Open.EXCLUSIVE, 0644)),
        new DafsException(Status.EXIST, "x"), null);
    DafsException e = (DafsException) r.handle((v, t) -> t).join();
    assertEquals(Status.EXIST, e.status());
    assertTrue(e.getMessage().contains("restarted"), e.getMessage());
  }
}
