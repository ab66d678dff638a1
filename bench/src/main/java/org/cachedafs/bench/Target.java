package org.cachedafs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * A configuration a workload runs against: the same files, reached one way or another. A target owns
 * what it connected (a session and its cache, a file system) and is made afresh for each measurement,
 * so every measurement starts with a cold client cache.
 */
interface Target extends AutoCloseable {
  String name();

  /** Opens a file of the export (created if {@code write} and missing). */
  Handle open(String file, boolean write) throws IOException;

  /** The client cache's counters so far, by name; empty where this JVM has no cache on the path. */
  default Map<String, Long> cacheCounters() {
    return Map.of();
  }

  /** Closes what the target owns: its session, cache or file system. */
  @Override
  void close() throws IOException;

  /** One open file. */
  interface Handle extends AutoCloseable {
    /** Reads at {@code position} into {@code dst}; the count, or -1 at end of file. */
    int pread(ByteBuffer dst, long position) throws IOException;

    int pwrite(ByteBuffer src, long position) throws IOException;

    void sync() throws IOException;

    @Override
    void close() throws IOException;
  }
}
