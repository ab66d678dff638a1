package org.cachedafs.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The descriptors that all sessions' opens may hold together, so that opens never take the ones the
 * server needs for connections and so that no session can take them all.
 *
 * <p>The last quarter of the budget goes only to sessions holding fewer than {@link #SMALL} opens:
 * a client that hoards descriptors runs into RESOURCE while an ordinary client can still open its
 * files.
 */
final class OpenBudget {
  /** A session with fewer opens than this may use the reserved quarter. */
  static final int SMALL = 64;

  private final int budget;
  private final int reserve;
  private final AtomicInteger used = new AtomicInteger();

  OpenBudget(int budget) {
    this.budget = budget;
    this.reserve = budget / 4;
  }

  /** The default budget: three quarters of the process's descriptor limit; the rest is for sockets and the JVM. */
  static int fromProcessLimit() {
    long limit = processDescriptorLimit();
    return (int) Math.max(64, Math.min(Integer.MAX_VALUE, limit * 3 / 4));
  }

  /** The soft RLIMIT_NOFILE, from /proc; 1024 (the usual default) where it cannot be read. */
  static long processDescriptorLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
          return soft.equals("unlimited") ? Integer.MAX_VALUE : Long.parseLong(soft);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux, or /proc not mounted: assume the common default.
    }
    return 1024;
  }

  /** Takes one descriptor for a session that holds {@code heldBySession} opens; false if none is left for it. */
  boolean tryAcquire(int heldBySession) {
    int limit = heldBySession < SMALL ? budget : budget - reserve;
    while (true) {
      int u = used.get();
      if (u >= limit) {
        return false;
      }
      if (used.compareAndSet(u, u + 1)) {
        return true;
      }
    }
  }

  void release() {
    used.decrementAndGet();
  }

  int budget() {
    return budget;
  }

  int used() {
    return used.get();
  }
}
