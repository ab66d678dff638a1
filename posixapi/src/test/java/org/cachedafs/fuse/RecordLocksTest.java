package org.cachedafs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.LockRange;
import org.junit.jupiter.api.Test;

/**
 * The mount's record locks against a model of the server, which keeps the session's ranges with POSIX
 * semantics for one owner (the session) and refuses what another client holds: owners here conflict
 * with each other, and the session's ranges on the server stay the union of theirs.
 */
class RecordLocksTest {
  private static final long END = Long.MAX_VALUE;
  private final FileHandle file = new FileHandle(new byte[16]);
  private final RecordLocks locks = new RecordLocks();
  private final ModelServer server = new ModelServer();

  /**
   * The server, byte by byte over the first {@link #SPAN} bytes: what the session holds on each (the
   * server keeps one owner's ranges with POSIX semantics, so a lock or unlock sets its bytes), and
   * another client's locks.
   */
  private static final class ModelServer implements RecordLocks.Server {
    static final int SPAN = 200;
    static final byte NONE = 0;
    static final byte SHARED = 1;
    static final byte EXCLUSIVE = 2;
    final byte[] session = new byte[SPAN];
    final List<LockRange> otherClient = new ArrayList<>();

    @Override
    public boolean lock(LockRange r) {
      if (test(r).isPresent()) {
        return false;
      }
      set(r, r.exclusive() ? EXCLUSIVE : SHARED);
      return true;
    }

    @Override
    public void unlock(LockRange r) {
      set(r, NONE);
    }

    @Override
    public Optional<LockRange> test(LockRange r) {
      return otherClient.stream().filter(o -> o.overlaps(r) && (o.exclusive() || r.exclusive())).findFirst();
    }

    private void set(LockRange r, byte state) {
      for (long i = r.offset(); i < Math.min(SPAN, r.end()); i++) {
        session[(int) i] = state;
      }
    }

    /** Whether the session holds each byte of {@code [start, end)} as {@code state}. */
    boolean holds(long start, long end, byte state) {
      for (long i = start; i < Math.min(SPAN, end); i++) {
        if (session[(int) i] != state) {
          return false;
        }
      }
      return true;
    }

    boolean empty() {
      return holds(0, SPAN, NONE);
    }
  }

  private boolean lock(long owner, long start, long end, boolean exclusive) throws Exception {
    return locks.lock(file, server, new RecordLocks.Held(owner, (int) owner + 100, start, end, exclusive));
  }

  @Test
  void ownersHereConflictAndTheServerHoldsTheirUnion() throws Exception {
    assertTrue(lock(1, 0, 100, false));
    assertTrue(lock(2, 50, 150, false));
    assertFalse(lock(3, 90, 95, true), "an exclusive lock over shared ones of other owners here");
    assertTrue(server.holds(0, 150, ModelServer.SHARED));
    Optional<RecordLocks.Held> c = locks.conflict(file, server, new RecordLocks.Held(3, 103, 60, 70, true));
    assertTrue(c.isPresent());
    assertEquals(101, c.get().pid(), "F_GETLK names a local holder's pid");

    locks.unlock(file, server, 1, 0, END);
    assertTrue(server.holds(0, 50, ModelServer.NONE), "owner 1's own part is let go on the server");
    assertTrue(server.holds(50, 150, ModelServer.SHARED), "owner 2's part, shared with owner 1's, never left the server");
    assertTrue(lock(3, 10, 20, true), "free again here");
    assertTrue(server.holds(10, 20, ModelServer.EXCLUSIVE));
  }

  @Test
  void anotherClientsLockRefusesAndLeavesNothingBehind() throws Exception {
    server.otherClient.add(new LockRange(40, 10, true));
    assertFalse(lock(1, 0, 100, false));
    assertTrue(server.empty());
    Optional<RecordLocks.Held> c = locks.conflict(file, server, new RecordLocks.Held(1, 101, 0, 100, false));
    assertEquals(40, c.orElseThrow().start());
    assertEquals(0, c.get().pid(), "another client's holder has no pid here");
    assertTrue(lock(1, 0, 40, true), "beside it");
  }

  @Test
  void aLockOverTheOwnersOwnSplitsItOnTheServerToo() throws Exception {
    assertTrue(lock(1, 0, 100, true));
    assertTrue(lock(1, 20, 30, false), "a downgrade of a part");
    assertTrue(server.holds(0, 20, ModelServer.EXCLUSIVE));
    assertTrue(server.holds(20, 30, ModelServer.SHARED));
    assertTrue(server.holds(30, 100, ModelServer.EXCLUSIVE));
    assertTrue(lock(2, 25, 26, false), "another owner may share the shared part");
    assertFalse(lock(2, 30, 31, false), "but not the exclusive rest");
    locks.unlock(file, server, 1, 0, END);
    assertTrue(server.holds(25, 26, ModelServer.SHARED));
    assertTrue(server.holds(0, 25, ModelServer.NONE));
    assertTrue(server.holds(26, 100, ModelServer.NONE));
  }

  @Test
  void aWaitEndsWhenTheWaiterIsSignalled() throws Exception {
    assertTrue(lock(1, 0, END, true));
    int[] polls = {0};
    assertFalse(locks.lockWaiting(file, server, new RecordLocks.Held(2, 102, 0, 1, false), () -> ++polls[0] >= 3));
    assertEquals(3, polls[0]);
  }
}
