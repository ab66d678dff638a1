package org.cachedafs.client;

import java.time.Duration;

/** Durations as a message shows them: "10 s", "500 ms", not ISO-8601's "PT10S". */
final class Durations {
  private Durations() {}

  static String text(Duration d) {
    long millis = d.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
  }
}
