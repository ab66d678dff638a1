package org.cachedafs.delegation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The client's view of its delegations: which it holds, which are being recalled or returned, and
 * the order of a recall. Pure logic over a {@link Ticker}: the return itself goes through the
 * injected {@link Returner}, the flush through the {@link Listener}.
 *
 * <pre>
 *  granted()          recall() / returnEarly()          uses drained,          RETURNED
 * ─────────► HELD ───────────────────────────► RECALLED ─ listener done ─► RETURNING ────────► (removed)
 *              │                                                               │ REVOKED
 *              │ revoked() (the server refused a use)                          ▼
 *              └──────────────────────────────────────────────────────────► REVOKED → listener.onRevoked
 * </pre>
 *
 * Races it settles:
 * <ul>
 *   <li><b>recall before grant</b>: the callback can overtake the open reply that carries the grant;
 *       the recall is remembered (for {@code earlyRecallTtl}) and applied when the grant arrives;
 *   <li><b>recall during a use</b>: a recall while a use (a cached write, say) is in flight waits for
 *       it: the listener runs only once no use is in flight, so the flush includes that write, and no
 *       new use starts after the recall;
 *   <li><b>double recall</b> and <b>recall crossing a return</b>: a recall of a delegation already
 *       recalled or being returned is ignored: one listener call, one return;
 *   <li><b>grant after return</b>: the server repeats a held delegation's id in each open reply; an open
 *       reply processed after that delegation was returned or revoked does not bring it back.
 * </ul>
 * Thread-safe; the listener and returner are called without the tracker's monitor held.
 *
 * @param <K> the file's key on the client
 */
public final class DelegationTracker<K> {
  /** A delegation as the client holds it. */
  public record Held<K>(long id, K key, DelegationType type) {}

  /** The layer that caches under delegations (the cache). */
  public interface Listener<K> {
    /**
     * Flush everything the delegation covers; the returned future completes when it is flushed. Called
     * once per delegation, with no use in flight. If it fails, the delegation is returned anyway (the
     * listener has reported the loss).
     */
    CompletableFuture<Void> onRecall(Held<K> delegation);

    /** The server revoked the delegation, or the session ended: whatever was not flushed is lost. */
    void onRevoked(Held<K> delegation);
  }

  /** Sends DELEGRETURN; completes with the server's answer. */
  @FunctionalInterface
  public interface Returner<K> {
    CompletableFuture<ReturnResult> returnDelegation(Held<K> delegation);
  }

  public enum State { HELD, RECALLED, RETURNING }

  /**
   * Counters since the tracker started.
   *
   * @param recallToReturnNanos total time from recall to the server's acknowledgement of the return
   */
  public record Stats(long granted, long recalls, long returns, long revocations, long recallToReturnNanos, long maxRecallToReturnNanos) {}

  /** Guarded by the tracker. */
  private static final class Entry<K> {
    final Held<K> held;
    State state = State.HELD;
    int uses;
    boolean listenerStarted;
    boolean early;
    long recalledAt;

    Entry(Held<K> held) {
      this.held = held;
    }
  }

  private final Ticker ticker;
  private final long earlyRecallTtlNanos;
  private final Listener<K> listener;
  private final Returner<K> returner;
  /** Guarded by this. */
  private final Map<Long, Entry<K>> byId = new HashMap<>();
  /** Guarded by this: the entry usable for a key (the newest grant). */
  private final Map<K, Entry<K>> byKey = new HashMap<>();
  /** Guarded by this: recalls that arrived before their grant, with their arrival time. */
  private final Map<Long, Long> earlyRecalls = new HashMap<>();
  /**
   * Guarded by this: delegations returned or revoked lately. The server repeats a held delegation's id
   * in every open reply, so an open reply processed after the return would otherwise bring it back.
   */
  private final Map<Long, Long> gone = new HashMap<>();
  /** Guarded by this. */
  private long granted;
  /** Guarded by this. */
  private long recalls;
  /** Guarded by this. */
  private long returns;
  /** Guarded by this. */
  private long revocations;
  /** Guarded by this. */
  private long recallToReturn;
  /** Guarded by this. */
  private long maxRecallToReturn;

  public DelegationTracker(Ticker ticker, long earlyRecallTtlNanos, Listener<K> listener, Returner<K> returner) {
    this.ticker = ticker;
    this.earlyRecallTtlNanos = earlyRecallTtlNanos;
    this.listener = listener;
    this.returner = returner;
  }

  /**
   * The server granted a delegation (with an open). Granting the same one again is harmless.
   *
   * @return whether the delegation is held (or being recalled) now; false if it was already returned,
   *     revoked or abandoned, so this grant is stale and nothing may be cached under it
   */
  public boolean granted(long id, K key, DelegationType type) {
    Entry<K> recallNow = null;
    synchronized (this) {
      expireEarlyRecalls();
      if (gone.containsKey(id)) {
        return false;
      }
      if (byId.containsKey(id)) {
        return true;
      }
      Entry<K> e = new Entry<>(new Held<>(id, key, type));
      byId.put(id, e);
      byKey.put(key, e);
      granted++;
      if (earlyRecalls.remove(id) != null) {
        recallNow = e;
        markRecalled(e);
      }
    }
    if (recallNow != null) {
      proceed(recallNow);
    }
    return true;
  }

  /**
   * The client handed the delegation back without it ever being registered here (a recall of an open
   * nobody caches under): remember it as gone, so a late grant of it is not taken for a live one.
   */
  public synchronized void abandon(long id) {
    earlyRecalls.remove(id);
    if (!byId.containsKey(id)) {
      gone.put(id, ticker.read());
    }
  }

  /** The delegation usable for a key right now, or null. */
  public synchronized Held<K> held(K key) {
    Entry<K> e = byKey.get(key);
    return e != null && e.state == State.HELD ? e.held : null;
  }

  public synchronized State state(long id) {
    Entry<K> e = byId.get(id);
    return e == null ? null : e.state;
  }

  /**
   * Starts a use of the delegation on {@code key} (a cached read or write). Returns the delegation, or
   * null if none is usable (none held, or recalled): then the caller goes to the server instead. Each
   * non-null result must be ended with {@link #endUse}.
   */
  public synchronized Held<K> tryUse(K key) {
    Entry<K> e = byKey.get(key);
    if (e == null || e.state != State.HELD) {
      return null;
    }
    e.uses++;
    return e.held;
  }

  public void endUse(Held<K> held) {
    Entry<K> go = null;
    synchronized (this) {
      Entry<K> e = byId.get(held.id());
      if (e == null) {
        return;
      }
      e.uses--;
      if (e.state == State.RECALLED && e.uses == 0 && !e.listenerStarted) {
        go = e;
      }
    }
    if (go != null) {
      proceed(go);
    }
  }

  /** The server recalled a delegation (the CB_RECALL callback). */
  public void recall(long id) {
    Entry<K> go = null;
    synchronized (this) {
      Entry<K> e = byId.get(id);
      if (e == null) {
        expireEarlyRecalls();
        earlyRecalls.put(id, ticker.read());
        return;
      }
      if (e.state != State.HELD) {
        return; // a double recall, or a recall crossing our return
      }
      markRecalled(e);
      if (e.uses == 0) {
        go = e;
      }
    }
    if (go != null) {
      proceed(go);
    }
  }

  /**
   * Hands a delegation back of the client's own accord: as for a recall, uses in flight finish and the
   * listener flushes before the return, so nothing written under it is left behind.
   */
  public void returnEarly(K key) {
    Entry<K> go = null;
    synchronized (this) {
      Entry<K> e = byKey.get(key);
      if (e == null || e.state != State.HELD) {
        return;
      }
      e.early = true;
      markRecalled(e);
      if (e.uses == 0) {
        go = e;
      }
    }
    if (go != null) {
      proceed(go);
    }
  }

  /** The server answered a use of the delegation's state with DELEG_REVOKED. */
  public void revoked(long id) {
    Entry<K> e;
    synchronized (this) {
      e = byId.remove(id);
      if (e == null) {
        return;
      }
      byKey.remove(e.held.key(), e);
      gone.put(id, ticker.read());
      revocations++;
    }
    listener.onRevoked(e.held);
  }

  /** The server dropped the delegation with its file (this client removed it): forget it quietly. */
  public synchronized void forget(long id) {
    Entry<K> e = byId.remove(id);
    if (e != null) {
      byKey.remove(e.held.key(), e);
      gone.put(id, ticker.read());
    }
  }

  /** The session ended: every delegation is gone, as if revoked. */
  public void sessionLost() {
    List<Entry<K>> all;
    synchronized (this) {
      all = new ArrayList<>(byId.values());
      byId.clear();
      byKey.clear();
      earlyRecalls.clear();
      revocations += all.size();
    }
    for (Entry<K> e : all) {
      listener.onRevoked(e.held);
    }
  }

  public synchronized Stats stats() {
    return new Stats(granted, recalls, returns, revocations, recallToReturn, maxRecallToReturn);
  }

  /** Guarded by this. */
  private void markRecalled(Entry<K> e) {
    e.state = State.RECALLED;
    e.recalledAt = ticker.read();
    if (!e.early) {
      recalls++;
    }
  }

  /** Guarded by this: forgets early recalls and gone ids older than the time to live. */
  private void expireEarlyRecalls() {
    long now = ticker.read();
    for (Map<Long, Long> m : List.of(earlyRecalls, gone)) {
      for (Iterator<Long> it = m.values().iterator(); it.hasNext(); ) {
        if (now - it.next() > earlyRecallTtlNanos) {
          it.remove();
        }
      }
    }
  }

  /** Outside the monitor: flush, then return. */
  private void proceed(Entry<K> e) {
    synchronized (this) {
      if (e.listenerStarted) {
        return;
      }
      e.listenerStarted = true;
    }
    CompletableFuture<Void> flushed;
    try {
      flushed = listener.onRecall(e.held);
    } catch (RuntimeException ex) {
      flushed = CompletableFuture.failedFuture(ex);
    }
    flushed.handle((v, err) -> null).thenCompose(v -> sendReturn(e));
  }

  private CompletableFuture<Void> sendReturn(Entry<K> e) {
    synchronized (this) {
      if (e.state != State.RECALLED) {
        return CompletableFuture.completedFuture(null);
      }
      e.state = State.RETURNING;
    }
    CompletableFuture<ReturnResult> sent;
    try {
      sent = returner.returnDelegation(e.held);
    } catch (RuntimeException ex) {
      sent = CompletableFuture.failedFuture(ex);
    }
    return sent.handle((result, err) -> {
      if (err == null && result == ReturnResult.REVOKED) {
        revoked(e.held.id());
        return null;
      }
      synchronized (this) {
        if (byId.remove(e.held.id(), e)) {
          byKey.remove(e.held.key(), e);
          gone.put(e.held.id(), ticker.read());
          if (err == null && result == ReturnResult.RETURNED) {
            returns++;
            long took = ticker.read() - e.recalledAt;
            recallToReturn += took;
            maxRecallToReturn = Math.max(maxRecallToReturn, took);
          }
        }
      }
      // A return that could not be sent needs no retry: its session is gone, and the server drops the
      // delegation with it.
      return null;
    });
  }
}
