package org.cachedafs.client;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.Replies.Opened;

/**
 * What this session holds on the server, as the server's replies said: its opens, its delegations and
 * its byte-range locks. The server forgets them all when it restarts; the session keeps them here so
 * that it can take them back during the server's grace period ({@link Reclaimer}), under the same
 * state and delegation ids, so that the application's {@link OpenFile}s and the cache's delegations
 * go on working.
 *
 * <p>Updated when a reply arrives (on the receive thread), before the caller's future completes: an
 * open is held from its OPEN's reply to its CLOSE's, a lock from its LOCK's reply to the LOCKU's (or
 * the close of the file's last open, which releases it on the server too), a delegation from the OPEN
 * that granted it until it is returned or revoked. Mirrors the server's rules, not more: a lock over a
 * range replaces the session's own locks there, as on the server.
 *
 * <p>Thread-safe: opens and delegations are concurrent maps; locks are guarded by the monitor.
 */
final class HeldState {
  /** An open: its state id, the file, its access and deny modes. */
  record Open(long stateId, FileHandle handle, int access, int deny) {}

  /** A delegation: its id, the file, and its type ({@link Opened#DELEGATION_READ} or {@code _WRITE}). */
  record Delegation(long id, FileHandle handle, int type) {}

  /** A locked byte range of a file. */
  record Lock(FileHandle handle, LockRange range) {}

  /** Everything at one moment, for a reclaim. */
  record Snapshot(List<Open> opens, List<Delegation> delegations, List<Lock> locks) {
    boolean isEmpty() {
      return opens.isEmpty() && delegations.isEmpty() && locks.isEmpty();
    }
  }

  private final Map<Long, Open> opens = new ConcurrentHashMap<>();
  private final Map<Long, Delegation> delegations = new ConcurrentHashMap<>();
  /** Guarded by this: per file, its locked ranges, none overlapping. */
  private final Map<FileHandle, List<LockRange>> locks = new HashMap<>();

  void opened(OpenFile f) {
    opens.put(f.stateId(), new Open(f.stateId(), f.handle(), f.mode().access(), f.mode().deny()));
    if (f.hasDelegation()) {
      delegations.put(f.delegationId(), new Delegation(f.delegationId(), f.handle(), f.delegation()));
    }
  }

  /** The open is closed; with the file's last open the server released the session's locks on it. */
  void closed(long stateId) {
    Open o = opens.remove(stateId);
    if (o == null) {
      return;
    }
    synchronized (this) {
      for (Open other : opens.values()) {
        if (other.handle().equals(o.handle())) {
          return;
        }
      }
      locks.remove(o.handle());
    }
  }

  /** The delegation was returned, revoked, or dropped by the server: nothing to reclaim. */
  void delegationGone(long id) {
    delegations.remove(id);
  }

  synchronized void locked(FileHandle h, LockRange r) {
    List<LockRange> ranges = without(locks.getOrDefault(h, List.of()), r);
    ranges.add(r);
    locks.put(h, ranges);
  }

  synchronized void unlocked(FileHandle h, LockRange r) {
    List<LockRange> ranges = without(locks.getOrDefault(h, List.of()), r);
    if (ranges.isEmpty()) {
      locks.remove(h);
    } else {
      locks.put(h, ranges);
    }
  }

  /** {@code ranges} with {@code cut}'s bytes taken out, splitting where it falls inside one. */
  private static List<LockRange> without(List<LockRange> ranges, LockRange cut) {
    List<LockRange> out = new ArrayList<>();
    for (LockRange r : ranges) {
      if (!r.overlaps(cut)) {
        out.add(r);
        continue;
      }
      if (r.offset() < cut.offset()) {
        out.add(new LockRange(r.offset(), cut.offset() - r.offset(), r.exclusive()));
      }
      if (cut.end() < r.end()) {
        out.add(new LockRange(cut.end(), r.end() == Long.MAX_VALUE ? 0 : r.end() - cut.end(), r.exclusive()));
      }
    }
    return out;
  }

  synchronized Snapshot snapshot() {
    List<Lock> all = new ArrayList<>();
    locks.forEach((h, ranges) -> ranges.forEach(r -> all.add(new Lock(h, r))));
    return new Snapshot(List.copyOf(opens.values()), List.copyOf(delegations.values()), all);
  }
}
