package org.cachedafs.fuse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.LockRange;

/**
 * POSIX record locks ({@code fcntl} F_SETLK, F_SETLKW, F_GETLK) for the processes that use the mount,
 * held against each other here and against other clients on the server.
 *
 * <p>The server keeps locks per session, and the whole mount is one session: to it, every process
 * here is the same owner, and two of them would never conflict. So the mount keeps each owner's ranges
 * itself (an owner is the kernel's {@code lock_owner}: a process's file table), refuses what conflicts
 * between owners here, and keeps the session's ranges on the server equal to the union of all of them,
 * which is what makes other clients conflict with any of them:
 * <ul>
 *   <li>a lock is checked here first, then taken on the server over its whole range with its own type,
 *       and only then recorded. That gives the union: where another owner here overlaps it, both are
 *       shared (or they would have conflicted), and the server's range over it is shared too;
 *   <li>an unlock lets go on the server of only those parts of the owner's ranges that no other owner
 *       here covers, so another owner's lock is never dropped, not even for a moment.
 * </ul>
 * The server drops the session's locks on a file when its last open of it closes; by then every owner
 * has let go here too, since the kernel unlocks an owner's ranges at each close(2) it makes (libfuse
 * sends that unlock after FLUSH).
 *
 * <p>Each file's table is one monitor, held across the server's answer: the local check, the server's
 * change and the record are one step, so two owners cannot both pass the check and both be granted.
 * Locks on other files do not wait on it.
 */
final class RecordLocks {
  /** The server's side of a file's locks, through one of the mount's opens of it. */
  interface Server {
    /** Takes {@code r} for the session; false if another client holds a conflicting lock. */
    boolean lock(LockRange r) throws IOException;

    void unlock(LockRange r) throws IOException;

    /** Another client's lock that conflicts with {@code r}, if any. */
    Optional<LockRange> test(LockRange r) throws IOException;
  }

  /** A range one owner holds: {@code [start, end)}, {@code end} {@link Long#MAX_VALUE} for "to the end and beyond". */
  record Held(long owner, int pid, long start, long end, boolean exclusive) {
    boolean overlaps(long s, long e) {
      return start < e && s < end;
    }
  }

  /** How long an F_SETLKW waits between tries, at most: the server never queues a lock. */
  private static final long MAX_BACKOFF_MILLIS = 100;

  private final Map<FileHandle, FileLocks> files = new ConcurrentHashMap<>();

  /** F_SETLK: true if taken, false if another owner here or another client holds a conflicting lock. */
  boolean lock(FileHandle file, Server server, Held wanted) throws IOException {
    while (true) {
      FileLocks f = files.computeIfAbsent(file, k -> new FileLocks());
      synchronized (f) {
        if (f.retired) {
          continue;
        }
        boolean taken = f.lock(server, wanted);
        retireIfEmpty(file, f);
        return taken;
      }
    }
  }

  /**
   * F_SETLKW: tries until the lock is taken, or until {@code interrupted} says the waiting process
   * was signalled (then false, and the caller answers EINTR as the kernel would).
   */
  boolean lockWaiting(FileHandle file, Server server, Held wanted, BooleanSupplier interrupted) throws IOException {
    long backoff = 1;
    while (!lock(file, server, wanted)) {
      if (interrupted.getAsBoolean()) {
        return false;
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
    }
    return true;
  }

  /** Unlocks {@code [start, end)} for {@code owner}; what it did not hold is no matter. */
  void unlock(FileHandle file, Server server, long owner, long start, long end) throws IOException {
    FileLocks f = files.get(file);
    if (f == null) {
      return;
    }
    synchronized (f) {
      if (!f.retired) {
        f.unlock(server, owner, start, end);
        retireIfEmpty(file, f);
      }
    }
  }

  /** F_GETLK: a lock that conflicts with {@code wanted}, held by another owner here or by another client (pid 0). */
  Optional<Held> conflict(FileHandle file, Server server, Held wanted) throws IOException {
    FileLocks f = files.get(file);
    if (f != null) {
      synchronized (f) {
        Held h = f.retired ? null : f.conflict(wanted);
        if (h != null) {
          return Optional.of(h);
        }
      }
    }
    return server.test(range(wanted.start(), wanted.end(), wanted.exclusive()))
        .map(r -> new Held(0, 0, r.offset(), r.end(), r.exclusive()));
  }

  /** Called holding {@code f}: a table with nothing in it leaves the map, so the map holds only files with locks. */
  private void retireIfEmpty(FileHandle file, FileLocks f) {
    if (f.held.isEmpty()) {
      f.retired = true;
      files.remove(file, f);
    }
  }

  static LockRange range(long start, long end, boolean exclusive) {
    return new LockRange(start, end == Long.MAX_VALUE ? 0 : end - start, exclusive);
  }

  /** One file's ranges, by owner. Guarded by itself. */
  private static final class FileLocks {
    final List<Held> held = new ArrayList<>();
    /** Set when it left the map; a caller that still found it takes a fresh one. */
    boolean retired;

    Held conflict(Held w) {
      for (Held h : held) {
        if (h.owner() != w.owner() && h.overlaps(w.start(), w.end()) && (h.exclusive() || w.exclusive())) {
          return h;
        }
      }
      return null;
    }

    boolean lock(Server server, Held w) throws IOException {
      if (conflict(w) != null || !server.lock(range(w.start(), w.end(), w.exclusive()))) {
        return false;
      }
      removeOwn(w.owner(), w.start(), w.end());
      held.add(w);
      return true;
    }

    void unlock(Server server, long owner, long start, long end) throws IOException {
      List<long[]> free = new ArrayList<>();
      for (Held h : held) {
        if (h.owner() == owner && h.overlaps(start, end)) {
          free.add(new long[] {Math.max(start, h.start()), Math.min(end, h.end())});
        }
      }
      if (free.isEmpty()) {
        return;
      }
      for (Held h : held) {
        if (h.owner() != owner) {
          free = cut(free, h.start(), h.end());
        }
      }
      for (long[] piece : free) {
        server.unlock(range(piece[0], piece[1], false));
      }
      removeOwn(owner, start, end);
    }

    /** Cuts {@code [start, end)} out of the owner's ranges, splitting where needed. */
    private void removeOwn(long owner, long start, long end) {
      List<Held> keep = new ArrayList<>();
      for (Held h : held) {
        if (h.owner() != owner) {
          keep.add(h);
          continue;
        }
        for (long[] p : cut(List.of(new long[] {h.start(), h.end()}), start, end)) {
          keep.add(new Held(owner, h.pid(), p[0], p[1], h.exclusive()));
        }
      }
      held.clear();
      held.addAll(keep);
    }

    /** The parts of {@code pieces} outside {@code [start, end)}. */
    private static List<long[]> cut(List<long[]> pieces, long start, long end) {
      List<long[]> out = new ArrayList<>();
      for (long[] p : pieces) {
        if (p[1] <= start || end <= p[0]) {
          out.add(p);
          continue;
        }
        if (p[0] < start) {
          out.add(new long[] {p[0], start});
        }
        if (end < p[1]) {
          out.add(new long[] {end, p[1]});
        }
      }
      return out;
    }
  }
}
