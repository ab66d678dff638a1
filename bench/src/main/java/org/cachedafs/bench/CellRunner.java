package org.cachedafs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Runs one workload against one target on this thread and checks every byte it reads, and after a
 * write workload every byte of the file, through a new open and on the disk. Only the I/O calls are
 * timed: the pattern is generated and checked between them.
 */
final class CellRunner {
  private static final int WARM_BUFFER = 1 << 20;

  private CellRunner() {}

  /** A read returned bytes that are not the file's: the run fails rather than report a number. */
  static final class WrongDataException extends IOException {
    WrongDataException(String message) {
      super(message);
    }
  }

  /** Where a client waits for the others between its warm-up and its timed part. */
  interface Gate {
    void pass() throws IOException;
  }

  /** The pattern a workload's files hold: one seed per base file, so scratch copies share it. */
  static DataPattern patternOf(String file) {
    return new DataPattern(file.hashCode() * 0x9E3779B97F4A7C15L + 2002);
  }

  /**
   * Runs {@code w} on {@code file} (the workload's file, or its scratch copy) through {@code target}.
   *
   * @param onDisk the same file on local disk, checked after a write workload; null when the export is
   *     remote
   * @param clients the number of client processes running it at once, for the record
   */
  static Result run(Target target, Workload w, String file, Path onDisk, long seed, int clients) throws IOException {
    return run(target, w, file, onDisk, seed, clients, () -> {});
  }

  /** As above; {@code gate} runs after the warm-up and before the timed part, to start clients together. */
  static Result run(Target target, Workload w, String file, Path onDisk, long seed, int clients, Gate gate)
      throws IOException {
    DataPattern pattern = patternOf(w.file());
    int[] generations = w.writes() ? new int[Math.toIntExact(w.chunks())] : null;
    AccessPattern access = new AccessPattern(w, seed);
    Histogram latency = new Histogram(3);
    ByteBuffer buf = ByteBuffer.allocate(w.ioSize());
    long ops = 0;
    long bytes = 0;
    long timed = 0;
    long own = 0;
    long wall;
    int generation = 0;
    Map<String, Long> countersBefore;
    Map<String, Long> countersAfter;
    try (Target.Handle h = target.open(file, w.writes())) {
      if (w.warm()) {
        readAll(h, pattern, w.fileBytes(), generations, w.ioSize(), file);
      }
      gate.pass();
      countersBefore = target.cacheCounters();
      long start = System.nanoTime();
      long deadline = start + (long) (w.seconds() * 1e9);
      while ((!w.onePass() || ops < w.chunks()) && System.nanoTime() < deadline) {
        long chunk = access.nextChunk();
        long offset = chunk * w.ioSize();
        boolean write = w.op() == Workload.Op.WRITE || (w.op() == Workload.Op.MIX && !access.chance(w.readFraction()));
        buf.clear();
        long t0;
        long t1;
        if (write) {
          generation++;
          long f0 = System.nanoTime();
          pattern.fill(buf, offset, generation);
          t0 = System.nanoTime();
          own += t0 - f0;
          writeFully(h, buf, offset);
          t1 = System.nanoTime();
          generations[(int) chunk] = generation;
        } else {
          t0 = System.nanoTime();
          int n = readFully(h, buf, offset);
          t1 = System.nanoTime();
          int expected = generations == null ? 0 : generations[(int) chunk];
          check(pattern, buf, n, w.ioSize(), offset, expected, file);
          own += System.nanoTime() - t1;
        }
        latency.recordValue(Math.max(1, t1 - t0));
        timed += t1 - t0;
        bytes += w.ioSize();
        ops++;
      }
      if (w.writes()) {
        long t0 = System.nanoTime();
        h.sync();
        timed += System.nanoTime() - t0;
      }
      wall = System.nanoTime() - start;
      countersAfter = target.cacheCounters();
    }
    if (ops == 0) {
      throw new IOException(w.name() + " through " + target.name() + ": no operation completed within " + w.seconds() + " s");
    }
    if (w.writes()) {
      // What was written must be what a new open reads, and what is on the disk.
      try (Target.Handle h = target.open(file, false)) {
        readAll(h, pattern, w.fileBytes(), generations, w.ioSize(), file);
      }
      if (onDisk != null) {
        verifyOnDisk(onDisk, pattern, w, generations);
      }
    }
    // Where work goes on between calls (read-ahead after a sequential read, write-back after a write),
    // the time between calls belongs to the measurement: the wall clock, less the runner's own work on
    // the data (filling what it writes, checking what it reads: on 2 cores, checking 1 GiB took a
    // third of a cached cold read's wall time). Random reads leave nothing running between calls, so
    // there only the calls are timed.
    boolean background = w.access() == Workload.Access.SEQUENTIAL || w.writes();
    double seconds = (background ? wall - own : timed) / 1e9;
    String partial = w.onePass() && ops < w.chunks() ? "stopped after " + w.seconds() + " s, " + ops + " of " + w.chunks()
        + " operations; " : "";
    return new Result(w.name(), target.name(), clients, 1, w.ioSize(), w.fileBytes(), ops, bytes, seconds,
        bytes / seconds / 1e6, ops / seconds, latency.getValueAtPercentile(50) / 1e3, latency.getValueAtPercentile(99) / 1e3,
        latency.getValueAtPercentile(99.9) / 1e3, true, delta(countersBefore, countersAfter),
        partial + (background ? "wall-clock time of the timed part, less filling and checking the data" : "time inside the calls"));
  }

  /** The cache's counters over the timed part only; the gauges as they were at its end. */
  static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> d = new java.util.LinkedHashMap<>();
    after.forEach((k, v) -> d.put(k, Targets.GAUGES.contains(k) ? v : v - before.getOrDefault(k, 0L)));
    return d;
  }

  private static void readAll(Target.Handle h, DataPattern pattern, long size, int[] generations, int ioSize, String file)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(generations == null ? WARM_BUFFER : ioSize);
    for (long at = 0; at < size; at += buf.capacity()) {
      buf.clear();
      int want = (int) Math.min(buf.capacity(), size - at);
      buf.limit(want);
      int n = readFully(h, buf, at);
      int gen = generations == null ? 0 : generations[(int) (at / ioSize)];
      check(pattern, buf, n, want, at, gen, file);
    }
  }

  private static void verifyOnDisk(Path onDisk, DataPattern pattern, Workload w, int[] generations) throws IOException {
    try (FileChannel ch = FileChannel.open(onDisk, StandardOpenOption.READ)) {
      if (ch.size() != w.fileBytes()) {
        throw new WrongDataException(onDisk + " (on disk): " + ch.size() + " bytes, expected " + w.fileBytes());
      }
      ByteBuffer buf = ByteBuffer.allocate(w.ioSize());
      for (long chunk = 0; chunk < w.chunks(); chunk++) {
        buf.clear();
        long at = chunk * w.ioSize();
        int n = 0;
        while (buf.hasRemaining()) {
          int r = ch.read(buf, at + n);
          if (r < 0) {
            break;
          }
          n += r;
        }
        check(pattern, buf, n, w.ioSize(), at, generations[(int) chunk], onDisk + " (on disk)");
      }
    }
  }

  static int readFully(Target.Handle h, ByteBuffer buf, long offset) throws IOException {
    int start = buf.position();
    while (buf.hasRemaining()) {
      int n = h.pread(buf, offset + buf.position() - start);
      if (n < 0) {
        break;
      }
    }
    return buf.position() - start;
  }

  static void writeFully(Target.Handle h, ByteBuffer buf, long offset) throws IOException {
    int start = buf.position();
    while (buf.hasRemaining()) {
      h.pwrite(buf, offset + buf.position() - start);
    }
  }

  private static void check(DataPattern pattern, ByteBuffer buf, int n, int want, long offset, int generation, String file)
      throws WrongDataException {
    if (n != want) {
      throw new WrongDataException(file + ": read " + n + " bytes at " + offset + ", expected " + want);
    }
    if (!pattern.matches(buf, 0, n, offset, generation)) {
      long at = pattern.firstMismatch(buf, 0, n, offset, generation);
      throw new WrongDataException(file + ": wrong bytes at offset " + (at < 0 ? offset : at) + " (generation " + generation + ")");
    }
  }
}
