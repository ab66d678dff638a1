package org.cachedafs.fuse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.cachedafs.cache.CachedFile;

/**
 * The mount's open files, by the number the kernel hands back with every call on them ({@code fh}).
 * A number is never reused, so a call that races a release finds nothing rather than another file.
 */
final class OpenFiles {
  /** An open through the cache, with the open(2) flags it was made with. */
  record Opened(CachedFile file, int flags) {}

  private final Map<Long, Opened> open = new ConcurrentHashMap<>();
  private final AtomicLong next = new AtomicLong(1);

  long add(Opened o) {
    long fh = next.getAndIncrement();
    open.put(fh, o);
    return fh;
  }

  /** The open behind {@code fh}, or null if it was released (or never was). */
  Opened get(long fh) {
    return open.get(fh);
  }

  Opened remove(long fh) {
    return open.remove(fh);
  }

  /** Takes every open out of the table: what is left when the mount ends. */
  List<Opened> drain() {
    List<Opened> all = new ArrayList<>();
    for (Long fh : List.copyOf(open.keySet())) {
      Opened o = open.remove(fh);
      if (o != null) {
        all.add(o);
      }
    }
    return all;
  }

  /** A snapshot of the opens, for writing them all back. */
  List<Opened> all() {
    return List.copyOf(open.values());
  }
}
