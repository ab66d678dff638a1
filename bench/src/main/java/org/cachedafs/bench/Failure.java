package org.cachedafs.bench;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** A failed run's cause as one line: what the runner was doing, then what went wrong underneath. */
final class Failure {
  private Failure() {}

  static String describe(Throwable e) {
    List<String> parts = new ArrayList<>();
    for (Throwable t = e; t != null && parts.size() < 8; t = t.getCause() == t ? null : t.getCause()) {
      String m = BenchMain.oneLine(t.getMessage());
      if (t.getCause() != null && (m.isEmpty() || m.equals(BenchMain.oneLine(t.getCause().toString())))) {
        continue; // a wrapper with nothing to say of its own
      }
      // An I/O failure's message says it all; anything else is a bug or a surprise, and its kind helps.
      boolean io = t instanceof java.io.IOException || t instanceof UncheckedIOException;
      String part = m.isEmpty() || !io ? t.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + m) : m;
      if (parts.stream().noneMatch(p -> p.contains(m.isEmpty() ? part : m))) {
        parts.add(part);
      }
    }
    return String.join(": ", parts);
  }
}
