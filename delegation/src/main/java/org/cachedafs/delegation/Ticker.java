package org.cachedafs.delegation;

/** A source of nanosecond time; tests inject a fake one so every lease and deadline is under their control. */
@FunctionalInterface
public interface Ticker {
  long read();

  static Ticker system() {
    return System::nanoTime;
  }
}
