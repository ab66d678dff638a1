package org.cachedafs.client;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The session's credit slots. Each request takes a free slot and the slot's next sequence number;
 * when none is free it waits in a queue, and the next reply hands its slot to the head of that queue.
 * So a client never has more requests outstanding than it has credits, and nobody is refused.
 */
final class CreditSlots {
  /** Starts a request on a slot; called outside the lock. */
  interface Start {
    void start(int slot, int sequence);
  }

  private final int[] sequence;
  /** Guarded by this. */
  private final Deque<Integer> free = new ArrayDeque<>();
  /** Guarded by this. */
  private final Deque<Start> waiting = new ArrayDeque<>();
  /** Guarded by this. */
  private int inFlight;
  /** Guarded by this. */
  private int maxInFlight;

  CreditSlots(int credits) {
    sequence = new int[credits];
    for (int i = 0; i < credits; i++) {
      free.add(i);
    }
  }

  int credits() {
    return sequence.length;
  }

  void submit(Start start) {
    int slot;
    int seq;
    synchronized (this) {
      Integer s = free.poll();
      if (s == null) {
        waiting.add(start);
        return;
      }
      slot = s;
      seq = take(slot);
    }
    start.start(slot, seq);
  }

  /** The request on {@code slot} was answered: the slot goes to the next waiter, or back to the pool. */
  void release(int slot) {
    Start next;
    int seq;
    synchronized (this) {
      inFlight--;
      next = waiting.poll();
      if (next == null) {
        free.push(slot);
        return;
      }
      seq = take(slot);
    }
    next.start(slot, seq);
  }

  /** Guarded by this. */
  private int take(int slot) {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return ++sequence[slot];
  }

  synchronized int inFlight() {
    return inFlight;
  }

  synchronized int maxInFlight() {
    return maxInFlight;
  }

  /** Everything still waiting, removed; for failing them when the session dies. */
  synchronized Deque<Start> drainWaiting() {
    Deque<Start> all = new ArrayDeque<>(waiting);
    waiting.clear();
    return all;
  }
}
