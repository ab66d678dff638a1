package org.cachedafs.delegation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The server's delegation state: which clients have which files open, which delegations are granted,
 * which are being recalled, and which were revoked. Pure logic over a {@link Ticker}: it sends nothing,
 * it tells the caller whom to recall and hands out futures that complete when recalls resolve.
 *
 * <p>The life of a delegation, after RFC 8881 sections 10.2 and 10.4:
 * <pre>
 *   grant(open)          check(conflicting access by another holder)
 *  ───────────► GRANTED ───────────────────────────────────────► RECALLING
 *                  │                                                │   │
 *                  │ returned()                        returned()   │   │ lease passes with no return:
 *                  ▼                                                ▼   ▼ expire()
 *              (removed)                                    (removed)  REVOKED (id remembered for
 *                                                                       the holder's later use)
 * </pre>
 * A holder whose session ends ({@link #holderGone}) loses everything without a recall. A holder whose
 * lease ran out but whose session is kept ({@link #holderLapsed}: a courtesy holder, perhaps cut off
 * and coming back) keeps its delegations until they are wanted: a conflict revokes them at once, since
 * no return can be waited for, and so do recalls under way when it lapsed. A conflicting
 * operation waits on {@link Conflict#resolved()}, which completes on return or revocation, so it never
 * proceeds early and never waits longer than the lease.
 *
 * <p>Grant policy: a READ delegation when no other holder has the file open for writing (and none
 * holds a WRITE delegation on it); a WRITE delegation when no other holder has it open at all or holds
 * any delegation on it. Nothing is granted on a file while one of its delegations is being recalled.
 * A holder that already holds a delegation on the file gets the same one again.
 *
 * <p>Local opens: processes on the server's host may open a file outside the server (the server's
 * local-writer fence sees them). Such an open may write, and nothing tells the server whether it does,
 * so it recalls every delegation on the file, READ and WRITE alike ({@link #localOpened}), and no
 * delegation is granted on the file until as many local closes balance it ({@link #localClosed}).
 *
 * <p>Thread-safe: every method holds the table's monitor, and futures are completed after it is
 * released, so no waiting operation runs under it.
 *
 * @param <F> the file identity
 * @param <H> the holder (a client session)
 */
public final class DelegationTable<F, H> {
  /** Guarded by this. */
  private static final class Entry<F, H> {
    final Grant<F, H> grant;
    final CompletableFuture<Void> resolved = new CompletableFuture<>();
    boolean recalling;
    long deadline;
    long recalledAt;

    Entry(Grant<F, H> grant) {
      this.grant = grant;
    }
  }

  private final Ticker ticker;
  private final long leaseNanos;
  private final LongSupplier ids;
  /** Guarded by this. */
  private final Map<Long, Entry<F, H>> byId = new HashMap<>();
  /** Guarded by this. */
  private final Map<F, List<Entry<F, H>>> byFile = new HashMap<>();
  /** Guarded by this: per file, per holder, {readers, writers}. */
  private final Map<F, Map<H, int[]>> opens = new HashMap<>();
  /** Guarded by this: revoked ids and their holders, for answering the holder's later use. */
  private final Map<Long, H> revoked = new HashMap<>();
  /**
   * Guarded by this: per file, operations waiting on one of its recalls that have not yet run again.
   * No delegation is granted on such a file, so a waiter cannot be overtaken by a fresh grant and wait
   * again: its wait stays bounded by one lease.
   */
  private final Map<F, Map<H, Integer>> waiters = new HashMap<>();
  /** Guarded by this: holders whose lease ran out while they keep their state ({@link #holderLapsed}). */
  private final java.util.Set<H> lapsed = new java.util.HashSet<>();
  /** Guarded by this: per file, opens by processes outside the server that have not closed yet. */
  private final Map<F, Integer> localOpens = new HashMap<>();

  /**
   * @param leaseNanos how long a recalled delegation may stay unreturned before it is revoked
   * @param ids a source of unique, unguessable, non-zero ids
   */
  public DelegationTable(Ticker ticker, long leaseNanos, LongSupplier ids) {
    this.ticker = ticker;
    this.leaseNanos = leaseNanos;
    this.ids = ids;
  }

  /** A holder opened the file; call it before {@link #grant}. */
  public synchronized void opened(F file, H holder, boolean read, boolean write) {
    int[] c = opens.computeIfAbsent(file, f -> new HashMap<>()).computeIfAbsent(holder, h -> new int[2]);
    c[0] += read ? 1 : 0;
    c[1] += write ? 1 : 0;
  }

  public synchronized void closed(F file, H holder, boolean read, boolean write) {
    Map<H, int[]> m = opens.get(file);
    int[] c = m == null ? null : m.get(holder);
    if (c == null) {
      return;
    }
    c[0] -= read ? 1 : 0;
    c[1] -= write ? 1 : 0;
    if (c[0] <= 0 && c[1] <= 0) {
      m.remove(holder);
      if (m.isEmpty()) {
        opens.remove(file);
      }
    }
  }

  /**
   * Decides the delegation for an open the holder just made ({@link #opened} already called).
   *
   * @param write whether the open is for writing (then only a WRITE delegation is useful)
   * @param refuse the client declined a delegation
   * @return the grant, or null for none
   */
  public synchronized Grant<F, H> grant(F file, H holder, boolean write, boolean refuse) {
    List<Entry<F, H>> entries = byFile.getOrDefault(file, List.of());
    for (Entry<F, H> e : entries) {
      if (e.grant.holder().equals(holder) && !e.recalling) {
        return e.grant;
      }
    }
    if (refuse || localOpens.containsKey(file)) {
      return null; // a process outside the server has the file open: it may write at any moment
    }
    for (H waiting : waiters.getOrDefault(file, Map.of()).keySet()) {
      if (!waiting.equals(holder)) {
        return null; // someone else's operation waits to run on this file: it goes first
      }
    }
    for (Entry<F, H> e : entries) {
      if (e.recalling || e.grant.holder().equals(holder)) {
        return null;
      }
      if (write || e.grant.type() == DelegationType.WRITE) {
        return null; // a WRITE delegation excludes every other delegation
      }
    }
    for (Map.Entry<H, int[]> o : opens.getOrDefault(file, Map.of()).entrySet()) {
      if (o.getKey().equals(holder)) {
        continue;
      }
      int[] c = o.getValue();
      if (write ? c[0] > 0 || c[1] > 0 : c[1] > 0) {
        return null;
      }
    }
    long id;
    do {
      id = ids.getAsLong();
    } while (id == 0 || byId.containsKey(id) || revoked.containsKey(id));
    Entry<F, H> e = new Entry<>(new Grant<>(id, file, holder, write ? DelegationType.WRITE : DelegationType.READ));
    byId.put(id, e);
    byFile.computeIfAbsent(file, f -> new ArrayList<>()).add(e);
    return e.grant;
  }

  /**
   * Takes back, after the server restarted, a delegation the holder had before it: the same id and
   * type. Null when that would conflict with what the table holds now: the id in use by another
   * delegation (or revoked), another delegation of the holder on the file, or another holder's
   * delegation that this one excludes (a WRITE delegation excludes every other). The same reclaim
   * again gets the same grant. Grace keeps new state out while holders reclaim, so a conflict means
   * the state the holders bring back does not fit together, and the newcomer gets no delegation.
   */
  public synchronized Grant<F, H> reclaim(F file, H holder, long id, DelegationType type) {
    Entry<F, H> known = byId.get(id);
    if (known != null) {
      Grant<F, H> g = known.grant;
      return g.holder().equals(holder) && g.file().equals(file) && g.type() == type ? g : null;
    }
    if (id == 0 || revoked.containsKey(id)) {
      return null;
    }
    for (Entry<F, H> e : byFile.getOrDefault(file, List.of())) {
      if (e.grant.holder().equals(holder) || type == DelegationType.WRITE || e.grant.type() == DelegationType.WRITE) {
        return null;
      }
    }
    Entry<F, H> e = new Entry<>(new Grant<>(id, file, holder, type));
    byId.put(id, e);
    byFile.computeIfAbsent(file, f -> new ArrayList<>()).add(e);
    return e.grant;
  }

  /**
   * Checks an operation by {@code requester} against the other holders' delegations on the file.
   * Conflicting delegations not yet recalled move to recalling, with the lease as their deadline; the
   * caller must send each one in {@link Conflict#toRecall()} a recall and wait for
   * {@link Conflict#resolved()} before doing the operation, then call {@link #waitOver} as it runs the
   * operation again.
   */
  public synchronized Conflict<F, H> check(F file, H requester, FileAccess access) {
    Conflict<F, H> c = recall(file, g -> !g.holder().equals(requester) && access.conflictsWith(g.type()));
    if (!c.isNone()) {
      waiters.computeIfAbsent(file, f -> new HashMap<>()).merge(requester, 1, Integer::sum);
    }
    return c;
  }

  /**
   * A process outside the server is opening the file, and its open waits on the caller: it may write,
   * so every delegation on the file is recalled, and none is granted until {@link #localClosed}
   * balances this call. The caller lets the open go on once {@link Conflict#resolved()} completes (a
   * return or a revocation, so at most a lease), as it would a conflicting client's operation.
   */
  public synchronized Conflict<F, H> localOpened(F file) {
    localOpens.merge(file, 1, Integer::sum);
    return recall(file, g -> true);
  }

  /**
   * {@code closes} opens by processes outside the server were closed; returns how many such opens of
   * the file are left (never below 0: a close of an open the caller never counted changes nothing).
   */
  public synchronized int localClosed(F file, int closes) {
    Integer open = localOpens.get(file);
    if (open == null) {
      return 0;
    }
    int left = Math.max(0, open - closes);
    if (left == 0) {
      localOpens.remove(file);
    } else {
      localOpens.put(file, left);
    }
    return left;
  }

  /** Opens of the file by processes outside the server that have not closed yet. */
  public synchronized int localOpens(F file) {
    return localOpens.getOrDefault(file, 0);
  }

  /**
   * A process outside the server changed the file or its name without an open the caller could hold
   * up (truncate(2) by path, rename, unlink), or through one opened before the caller watched the
   * file: it has happened already, so every delegation on the file is recalled and nobody waits.
   */
  public synchronized Conflict<F, H> localChanged(F file) {
    return recall(file, g -> true);
  }

  /**
   * Guarded by this: moves the file's delegations that {@code conflicts} picks to recalling (those not
   * recalling yet are returned to be sent a recall) and gives the future of their resolution.
   */
  private Conflict<F, H> recall(F file, Predicate<Grant<F, H>> conflicts) {
    List<Entry<F, H>> entries = byFile.get(file);
    if (entries == null) {
      return Conflict.none();
    }
    List<Grant<F, H>> toRecall = new ArrayList<>();
    List<CompletableFuture<Void>> waits = new ArrayList<>();
    long now = ticker.read();
    for (Entry<F, H> e : entries) {
      if (!conflicts.test(e.grant)) {
        continue;
      }
      if (!e.recalling) {
        e.recalling = true;
        e.recalledAt = now;
        // A lapsed holder cannot return it in time: it is due at once, and the caller's expire revokes it.
        e.deadline = lapsed.contains(e.grant.holder()) ? now : now + leaseNanos;
        toRecall.add(e.grant);
      }
      waits.add(e.resolved);
    }
    if (waits.isEmpty()) {
      return Conflict.none();
    }
    return new Conflict<>(toRecall, CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new)));
  }

  /**
   * A request of {@code requester} that waited on a recall of {@code file} has run again (to its end):
   * one waiter fewer. While it re-runs its own wait does not keep it from a grant, anyone else's does.
   */
  public synchronized void waitOver(F file, H requester) {
    Map<H, Integer> m = waiters.get(file);
    if (m != null) {
      m.computeIfPresent(requester, (h, n) -> n > 1 ? n - 1 : null);
      if (m.isEmpty()) {
        waiters.remove(file);
      }
    }
  }

  /** The holder hands a delegation back (on recall or of its own accord). */
  public ReturnResult returned(long id, H holder) {
    Entry<F, H> e;
    synchronized (this) {
      e = byId.get(id);
      if (e == null || !e.grant.holder().equals(holder)) {
        return Objects.equals(revoked.get(id), holder) ? ReturnResult.REVOKED : ReturnResult.UNKNOWN;
      }
      remove(e);
    }
    e.resolved.complete(null);
    return ReturnResult.RETURNED;
  }

  /** Revokes every recalled delegation whose deadline has passed; returns them. */
  public List<Grant<F, H>> expire() {
    return expire(g -> { });
  }

  /**
   * Revokes every recalled delegation whose deadline has passed. {@code beforeRelease} sees each one
   * before the operations waiting on it are released, so the caller can fence off the old holder first.
   */
  public List<Grant<F, H>> expire(java.util.function.Consumer<Grant<F, H>> beforeRelease) {
    List<Entry<F, H>> gone = new ArrayList<>();
    synchronized (this) {
      long now = ticker.read();
      for (Iterator<Entry<F, H>> it = byId.values().iterator(); it.hasNext(); ) {
        Entry<F, H> e = it.next();
        if (e.recalling && now - e.deadline >= 0) {
          it.remove();
          removeFromFile(e);
          revoked.put(e.grant.id(), e.grant.holder());
          gone.add(e);
        }
      }
    }
    for (Entry<F, H> e : gone) {
      beforeRelease.accept(e.grant);
    }
    return resolveAll(gone);
  }

  /**
   * The holder's lease ran out, but its state is kept in case it comes back (a courtesy holder): its
   * delegations being recalled are due now, and any conflict with the others makes them due at once,
   * until {@link #holderBack}. Returns whether any is due now: the caller then calls {@link #expire}.
   */
  public synchronized boolean holderLapsed(H holder) {
    lapsed.add(holder);
    long now = ticker.read();
    boolean due = false;
    for (Entry<F, H> e : byId.values()) {
      if (e.recalling && e.grant.holder().equals(holder)) {
        e.deadline = now;
        due = true;
      }
    }
    return due;
  }

  /** The lapsed holder was heard from again: what it still holds is recalled like anyone's. */
  public synchronized void holderBack(H holder) {
    lapsed.remove(holder);
  }

  /** The holder's session ended (lease expired, destroyed): all its delegations and opens go, without recall. */
  public List<Grant<F, H>> holderGone(H holder) {
    List<Entry<F, H>> gone = new ArrayList<>();
    synchronized (this) {
      lapsed.remove(holder);
      for (Iterator<Entry<F, H>> it = byId.values().iterator(); it.hasNext(); ) {
        Entry<F, H> e = it.next();
        if (e.grant.holder().equals(holder)) {
          it.remove();
          removeFromFile(e);
          gone.add(e);
        }
      }
      revoked.values().removeIf(holder::equals);
      for (Iterator<Map<H, Integer>> it = waiters.values().iterator(); it.hasNext(); ) {
        Map<H, Integer> m = it.next();
        m.remove(holder);
        if (m.isEmpty()) {
          it.remove();
        }
      }
      for (Iterator<Map<H, int[]>> it = opens.values().iterator(); it.hasNext(); ) {
        Map<H, int[]> m = it.next();
        m.remove(holder);
        if (m.isEmpty()) {
          it.remove();
        }
      }
    }
    return resolveAll(gone);
  }

  /** The file no longer exists: its delegations (already recalled by the removal) go, and so do its local opens. */
  public List<Grant<F, H>> fileGone(F file) {
    List<Entry<F, H>> gone;
    synchronized (this) {
      localOpens.remove(file);
      gone = new ArrayList<>(byFile.getOrDefault(file, List.of()));
      for (Entry<F, H> e : gone) {
        remove(e);
      }
    }
    return resolveAll(gone);
  }

  /** The holder's delegations being recalled, to recall again after it reconnects. */
  public synchronized List<Grant<F, H>> recalling(H holder) {
    List<Grant<F, H>> out = new ArrayList<>();
    for (Entry<F, H> e : byId.values()) {
      if (e.recalling && e.grant.holder().equals(holder)) {
        out.add(e.grant);
      }
    }
    return out;
  }

  /** The earliest recall deadline, in ticker time, or {@link Long#MAX_VALUE} when nothing is being recalled. */
  public synchronized long nextDeadline() {
    long next = Long.MAX_VALUE;
    for (Entry<F, H> e : byId.values()) {
      if (e.recalling && e.deadline < next) {
        next = e.deadline;
      }
    }
    return next;
  }

  /** The delegation the holder holds on the file, or null. */
  public synchronized Grant<F, H> held(F file, H holder) {
    for (Entry<F, H> e : byFile.getOrDefault(file, List.of())) {
      if (e.grant.holder().equals(holder)) {
        return e.grant;
      }
    }
    return null;
  }

  /** Whether the delegation was revoked from this holder. */
  public synchronized boolean isRevoked(long id, H holder) {
    return Objects.equals(revoked.get(id), holder);
  }

  /** The files that have delegations now (a snapshot). */
  public synchronized List<F> delegatedFiles() {
    return new ArrayList<>(byFile.keySet());
  }

  public synchronized int size() {
    return byId.size();
  }

  /** Guarded by this. */
  private void remove(Entry<F, H> e) {
    byId.remove(e.grant.id());
    removeFromFile(e);
  }

  /** Guarded by this. */
  private void removeFromFile(Entry<F, H> e) {
    List<Entry<F, H>> l = byFile.get(e.grant.file());
    if (l != null) {
      l.remove(e);
      if (l.isEmpty()) {
        byFile.remove(e.grant.file());
      }
    }
  }

  /** Outside the monitor: completes the waits of removed entries. */
  private List<Grant<F, H>> resolveAll(List<Entry<F, H>> gone) {
    List<Grant<F, H>> grants = new ArrayList<>(gone.size());
    for (Entry<F, H> e : gone) {
      e.resolved.complete(null);
      grants.add(e.grant);
    }
    return grants;
  }
}
