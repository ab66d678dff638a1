package org.cachedafs.transport.shm;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps shared memory mapped while anyone copies through it: users {@link #enter} and
 * {@link #exit} around each use, and the release action (unmapping, closing descriptors) runs once,
 * when the guard is closed and the last user has left. After {@link #close}, enter fails.
 */
final class Guard {
  private static final long CLOSED = 1;
  private static final long USER = 2;
  /** Users times two, plus one once closed. */
  private final AtomicLong state = new AtomicLong();
  private final Runnable release;

  Guard(Runnable release) {
    this.release = release;
  }

  /** Takes a use of the memory; false if the guard is closed (the memory is going or gone). */
  boolean enter() {
    while (true) {
      long s = state.get();
      if ((s & CLOSED) != 0) {
        return false;
      }
      if (state.compareAndSet(s, s + USER)) {
        return true;
      }
    }
  }

  void exit() {
    if (state.addAndGet(-USER) == CLOSED) {
      release.run();
    }
  }

  /** Refuses new users; releases now if nobody is inside, else when the last one exits. Idempotent. */
  void close() {
    while (true) {
      long s = state.get();
      if ((s & CLOSED) != 0) {
        return;
      }
      if (state.compareAndSet(s, s | CLOSED)) {
        if (s == 0) {
          release.run();
        }
        return;
      }
    }
  }

  boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }
}
