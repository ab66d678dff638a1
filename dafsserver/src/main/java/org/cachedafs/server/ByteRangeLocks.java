package org.cachedafs.server;

import java.util.ArrayList;
import java.util.List;
import org.cachedafs.protocol.LockRange;

/**
 * The byte-range locks on one file, with POSIX record-lock semantics per owner (a session): a new
 * lock replaces the owner's own locks over its range, unlocking splits ranges, and locks of different
 * owners conflict when they overlap and either is exclusive.
 */
final class ByteRangeLocks {
  private record Held(ServerSession owner, long start, long end, boolean exclusive) {
    LockRange range() {
      return new LockRange(start, end == Long.MAX_VALUE ? 0 : end - start, exclusive);
    }
  }

  /** Guarded by this. */
  private final List<Held> held = new ArrayList<>();

  /** The first lock of another owner that conflicts with {@code r}, or null. */
  synchronized LockRange conflict(ServerSession owner, LockRange r) {
    Held h = conflicting(owner, r);
    return h == null ? null : h.range();
  }

  /** Guarded by this. */
  private Held conflicting(ServerSession owner, LockRange r) {
    long end = r.end();
    for (Held h : held) {
      if (h.owner != owner && h.start < end && r.offset() < h.end && (h.exclusive || r.exclusive())) {
        return h;
      }
    }
    return null;
  }

  /**
   * A lock or unlock: the conflicting lock and its holder (nothing changed), or null and how many more
   * ranges the owner holds.
   */
  record Change(LockRange conflict, ServerSession holder, int rangesAdded) {}

  /** The most ranges one lock or unlock can add to its owner's count (one split plus the new range). */
  static final int MAX_RANGES_ADDED = 2;

  /** Takes {@code r} for {@code owner}, or returns the conflicting lock and changes nothing. */
  synchronized Change lock(ServerSession owner, LockRange r) {
    Held c = conflicting(owner, r);
    if (c != null) {
      return new Change(c.range(), c.owner, 0);
    }
    int before = held.size();
    removeOwn(owner, r.offset(), r.end());
    held.add(new Held(owner, r.offset(), r.end(), r.exclusive()));
    return new Change(null, null, held.size() - before);
  }

  /**
   * Unlocks; returns how many more ranges the owner holds (negative, or 1 for a split). If
   * {@code mayGrow} is false and the unlock would split a range, changes nothing and returns empty.
   */
  synchronized java.util.OptionalInt unlock(ServerSession owner, LockRange r, boolean mayGrow) {
    List<Held> before = new ArrayList<>(held);
    removeOwn(owner, r.offset(), r.end());
    int delta = held.size() - before.size();
    if (delta > 0 && !mayGrow) {
      held.clear();
      held.addAll(before);
      return java.util.OptionalInt.empty();
    }
    return java.util.OptionalInt.of(delta);
  }

  /** Releases every lock of {@code owner}; returns how many ranges that was. */
  synchronized int releaseAll(ServerSession owner) {
    int before = held.size();
    held.removeIf(h -> h.owner == owner);
    return before - held.size();
  }

  synchronized boolean isEmpty() {
    return held.isEmpty();
  }

  /** Guarded by this: cuts {@code [start, end)} out of the owner's ranges, splitting where needed. */
  private void removeOwn(ServerSession owner, long start, long end) {
    List<Held> keep = new ArrayList<>();
    for (Held h : held) {
      if (h.owner != owner || h.end <= start || end <= h.start) {
        keep.add(h);
        continue;
      }
      if (h.start < start) {
        keep.add(new Held(owner, h.start, start, h.exclusive));
      }
      if (end < h.end) {
        keep.add(new Held(owner, end, h.end, h.exclusive));
      }
    }
    held.clear();
    held.addAll(keep);
  }
}
