package org.cachedafs.cache;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.cachedafs.protocol.FileHandle;

/**
 * The files the cache knows, by handle: those open through it, and those it still caches or holds
 * dirty blocks for after their last close. A file is forgotten once it is neither.
 *
 * <p>Locking: the map's own per-key atomicity. An open registers inside {@code compute} for its
 * handle and a close deregisters inside {@code computeIfPresent}, so the two never interleave on one
 * file; ids are never reused.
 */
final class FileRegistry {
  private final Map<FileHandle, FileCache> files = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong(1);

  FileCache get(FileHandle handle) {
    return files.get(handle);
  }

  Collection<FileCache> all() {
    return files.values();
  }

  /** The file for {@code handle}, made with a fresh id if new, and {@code open} registered with it in the same step. */
  CachedFile open(FileHandle handle, java.util.function.LongFunction<FileCache> make, Function<FileCache, CachedFile> open) {
    CachedFile[] result = new CachedFile[1];
    files.compute(handle, (h, fc) -> {
      if (fc == null) {
        fc = make.apply(ids.getAndIncrement());
      }
      result[0] = open.apply(fc);
      fc.opens.add(result[0]);
      return fc;
    });
    return result[0];
  }

  /** An open of {@code fc} closed: forget the file if that was its last use. */
  void closed(CachedFile f, FileCache fc) {
    files.computeIfPresent(fc.handle, (h, v) -> {
      if (v != fc) {
        return v;
      }
      fc.opens.remove(f);
      return fc.unused() ? null : v;
    });
  }

  void forgetIfUnused(FileCache fc) {
    files.computeIfPresent(fc.handle, (h, v) -> v == fc && fc.unused() ? null : v);
  }

  void clear() {
    files.clear();
  }
}
