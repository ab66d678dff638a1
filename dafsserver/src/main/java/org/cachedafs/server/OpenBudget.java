package org.cachedafs.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The descriptors that all sessions' opens may hold together: a cache of descriptors over opens,
 * as NFS servers keep one (an open costs the server a record; a descriptor is what runs out).
 *
 * <p>When the budget is used up, the opens that have gone unused longest give their descriptors back
 * ("parking", {@link OpenState#park}) and reopen them by path on their next use. A client that opens
 * thousands of files and sits on them therefore costs the others nothing: their opens take the
 * descriptors of its idle ones. Only when every descriptor is in the middle of an operation is an
 * open refused, with RESOURCE. The budget stays below the process's limit, so the descriptors that
 * connections and the JVM need are never taken by opens.
 */
final class OpenBudget {
  /** How many idle opens one pass parks, as a share of the budget: a pass costs a scan, so it frees a batch. */
  private static final int PARK_BATCH_DIVISOR = 16;

  private final int budget;
  private final AtomicInteger used = new AtomicInteger();
  /** Opens that hold a descriptor now. */
  private final Set<OpenState> holders = ConcurrentHashMap.newKeySet();
  final LongAdder parked = new LongAdder();
  final LongAdder reopened = new LongAdder();

  OpenBudget(int budget) {
    this.budget = budget;
  }

  /** The default budget: half the process's descriptor limit; the rest is for connections and the JVM. */
  static int fromProcessLimit(long limit) {
    return (int) Math.max(16, Math.min(Integer.MAX_VALUE, limit / 2));
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

  /**
   * Takes one descriptor, parking idle opens if the budget is used up.
   *
   * @throws OpException RESOURCE if every descriptor belongs to an open in use
   */
  void acquire() throws OpException {
    while (true) {
      int u = used.get();
      if (u < budget) {
        if (used.compareAndSet(u, u + 1)) {
          return;
        }
        continue;
      }
      if (parkIdle() == 0) {
        throw new OpException(org.cachedafs.protocol.Status.RESOURCE, "all of the server's " + budget
            + " descriptors for open files are in use by operations under way (--max-open-files)");
      }
    }
  }

  void release() {
    used.decrementAndGet();
  }

  /** The open now holds a descriptor taken with {@link #acquire}. */
  void holding(OpenState o) {
    holders.add(o);
  }

  /** The open gave its descriptor back (and {@link #release} was called). */
  void notHolding(OpenState o) {
    holders.remove(o);
  }

  /** Parks a batch of the opens unused longest; returns how many. */
  private int parkIdle() {
    List<OpenState> idle = new ArrayList<>();
    for (OpenState o : holders) {
      if (o.idle()) {
        idle.add(o);
      }
    }
    idle.sort(Comparator.comparingLong(OpenState::lastUsed));
    int want = Math.max(1, budget / PARK_BATCH_DIVISOR);
    int n = 0;
    for (OpenState o : idle) {
      if (n == want) {
        break;
      }
      if (o.park()) {
        n++;
      }
    }
    parked.add(n);
    return n;
  }

  int budget() {
    return budget;
  }

  int used() {
    return used.get();
  }
}
