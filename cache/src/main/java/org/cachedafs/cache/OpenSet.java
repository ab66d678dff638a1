package org.cachedafs.cache;

import java.util.ArrayList;
import java.util.List;
import org.cachedafs.client.OpenFile;

/**
 * The opens of one file through this cache: whom a failure is reported to, and which open dirty
 * blocks are written back through.
 *
 * <p>Locking: its own monitor, taken alone or inside the file's ({@link FileCache#unused}); never
 * around a call out.
 */
final class OpenSet {
  /** Guarded by this. */
  private final List<CachedFile> opens = new ArrayList<>();

  synchronized void add(CachedFile f) {
    opens.add(f);
  }

  synchronized void remove(CachedFile f) {
    opens.remove(f);
  }

  /** Whether {@code of} is still one of the file's opens (an open leaves the set when it closes). */
  synchronized boolean holds(OpenFile of) {
    for (CachedFile f : opens) {
      if (f.open() == of) {
        return true;
      }
    }
    return false;
  }

  synchronized boolean isEmpty() {
    return opens.isEmpty();
  }

  /**
   * An open for writing, through which dirty blocks are written back; null if none. One granted
   * {@code delegationId} (the delegation the file is cached under) comes first: an open from an
   * earlier delegation may have been fenced by its revocation, and every write-back through it would
   * fail.
   */
  synchronized OpenFile writer(long delegationId) {
    OpenFile any = null;
    for (CachedFile f : opens) {
      OpenFile of = f.open();
      if (of.mode().canWrite()) {
        if (of.hasDelegation() && of.delegationId() == delegationId) {
          return of;
        }
        if (any == null) {
          any = of;
        }
      }
    }
    return any;
  }
}
