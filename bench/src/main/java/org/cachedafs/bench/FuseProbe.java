package org.cachedafs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Unmodified {@code fio} on the FUSE mount (docs/fuse.md) beside the local file system: random 4 KiB
 * reads and sequential 1 MiB reads, each job one thread of {@code pread(2)} ({@code ioengine=psync},
 * queue depth 1) for a fixed time ({@code time_based}) over one file, on three targets:
 *
 * <ul>
 *   <li>{@code local}: a file in a directory of the runner's on this machine, through the kernel's
 *       page cache (written just before, so held there, as the mount's file is in its cache);
 *   <li>{@code fuse-cached}: the same-sized file on the mount, through the client cache;
 *   <li>{@code fuse-uncached}: that file on the same mount with {@code direct=1}: the mount opens an
 *       {@code O_DIRECT} file through the cache's uncached door, so every read goes to the server
 *       (the mount has no option that turns its cache off; this is the uncached path a program gets).
 * </ul>
 *
 * Each file is written with the runner's {@link DataPattern} before the runs (fio's jobs find it
 * complete and lay nothing out), and read back through the mount after them and checked, since fio
 * does not check what it reads. The repetitions go round-robin over the three targets, as the
 * runner's configurations do; one short untimed fio run on each target first warms up the mount's JIT.
 */
final class FuseProbe {
  static final String RAND = "fio-rand-read-4k";
  static final String SEQ = "fio-seq-read-1m";
  static final String LOCAL = "local";
  static final String CACHED = "fuse-cached";
  static final String UNCACHED = "fuse-uncached";
  static final List<String> TARGETS = List.of(LOCAL, CACHED, UNCACHED);
  private static final int RAND_IO = 4096;
  private static final int SEQ_IO = 1 << 20;

  /**
   * Where and how long: the mount jar, the file size, each job's time, the mount's cache, the
   * repetitions, and where the mount's standard error goes.
   */
  record Plan(Path jar, long fileBytes, double seconds, long cacheBytes, int repeat, Path logs) {
    /** How many steps {@link #measure} reports. */
    int steps() {
      return 1 + 2 * TARGETS.size() * repeat;
    }
  }

  private FuseProbe() {}

  /** One untimed warm-up of at most this long on each target before the timed runs, s. */
  private static final double WARM_UP_SECONDS = 1;

  /**
   * Mounts {@code fixture}'s server on a new mount point, runs the jobs and returns one record per
   * job and repetition; unmounts and removes its files (on the mount and locally) on every path.
   *
   * @param localParent the directory the local file's directory is made in
   * @param name the file's name on the mount (at the export's root) and locally
   */
  static List<Result> measure(Plan plan, Fixture fixture, Path localParent, String name, Consumer<String> step)
      throws IOException, InterruptedException {
    String fio = FuseMount.onPath("fio");
    DataPattern pattern = CellRunner.patternOf(name);
    List<Result> out = new ArrayList<>();
    Path localDir = Files.createTempDirectory(Files.createDirectories(localParent), "dafs-bench-fio-");
    Path mountPoint = Files.createTempDirectory("dafs-bench-mnt-");
    try {
      step.accept("fuse: mount and write the files");
      Path local = localDir.resolve(name);
      Fixture.write(local, pattern, plan.fileBytes());
      try (FuseMount mount = FuseMount.start(plan.jar(), fixture.server(), fixture.secret(), mountPoint, plan.cacheBytes(),
          plan.logs().resolve("fuse-mount.stderr"))) {
        Path mounted = mountPoint.resolve(name);
        try {
          Fixture.write(mounted, pattern, plan.fileBytes()); // its close writes it back to the server
          for (String target : TARGETS) {
            fio(fio, plan, RAND, target, file(target, local, mounted), Math.min(WARM_UP_SECONDS, plan.seconds()));
          }
          for (String workload : List.of(RAND, SEQ)) {
            for (int rep = 1; rep <= plan.repeat(); rep++) {
              for (String target : TARGETS) {
                step.accept(workload + " / " + target + (plan.repeat() == 1 ? "" : " (" + rep + " of " + plan.repeat() + ")"));
                out.add(fio(fio, plan, workload, target, file(target, local, mounted), plan.seconds()).withRepeat(rep));
              }
            }
          }
          check(mounted, pattern, plan.fileBytes());
        } finally {
          removeFromExport(fixture, mounted, name);
        }
      }
      return out;
    } finally {
      Files.deleteIfExists(localDir.resolve(name));
      Files.deleteIfExists(localDir);
      Files.deleteIfExists(mountPoint);
    }
  }

  /**
   * Removes the mount's file through the mount, or through the server when the mount cannot (it died):
   * the runner leaves the export as it found it.
   */
  private static void removeFromExport(Fixture fixture, Path mounted, String name) throws IOException {
    try {
      Files.deleteIfExists(mounted);
    } catch (IOException e) {
      fixture.delete(name);
    }
  }

  private static Path file(String target, Path local, Path mounted) {
    return target.equals(LOCAL) ? local : mounted;
  }

  /** The fio command of one job; its JSON report goes to {@code report}. */
  static List<String> command(String fio, String workload, String target, Path file, long fileBytes, double seconds,
      Path report) {
    boolean rand = workload.equals(RAND);
    return List.of(fio, "--name=" + workload + "-" + target, "--filename=" + file, "--size=" + fileBytes,
        "--rw=" + (rand ? "randread" : "read"), "--bs=" + (rand ? RAND_IO : SEQ_IO), "--ioengine=psync",
        "--direct=" + (target.equals(UNCACHED) ? 1 : 0),
        // fio drops the file's pages from the page cache before a job by default: the local file must
        // stay cached, as the mount's file stays in its cache.
        "--invalidate=0", "--time_based", "--runtime=" + Math.max(1, Math.round(seconds * 1000)) + "ms",
        "--output-format=json", "--output=" + report);
  }

  private static Result fio(String fio, Plan plan, String workload, String target, Path file, double seconds)
      throws IOException, InterruptedException {
    Path report = Files.createTempFile("dafs-bench-fio-", ".json");
    Path err = Files.createTempFile("dafs-bench-fio-", ".err");
    try {
      List<String> cmd = command(fio, workload, target, file, plan.fileBytes(), seconds, report);
      Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
      if (!p.waitFor(Math.round(seconds) + 120, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new IOException("fio (" + workload + " on " + target + ") did not end within " + (Math.round(seconds) + 120) + " s");
      }
      if (p.exitValue() != 0) {
        throw new IOException("fio (" + workload + " on " + target + ") exited " + p.exitValue() + ": "
            + BenchMain.oneLine(Files.readString(err)));
      }
      boolean rand = workload.equals(RAND);
      return FioReport.parse(Files.readString(report, StandardCharsets.UTF_8)).toResult(workload, target, rand ? RAND_IO : SEQ_IO,
          plan.fileBytes(), note(target));
    } finally {
      Files.deleteIfExists(report);
      Files.deleteIfExists(err);
    }
  }

  private static String note(String target) {
    return switch (target) {
      case LOCAL -> "fio, psync, queue depth 1, on the local file system through the page cache";
      case CACHED -> "fio, psync, queue depth 1, on the FUSE mount through its cache";
      default -> "fio, psync, queue depth 1, direct=1 on the FUSE mount: O_DIRECT, the uncached door, every read to the server";
    } + "; fio does not check the bytes, the file was read back through the mount afterwards and checked";
  }

  /** Reads {@code file} back and checks every byte: fio's runs read it but do not look at it. */
  private static void check(Path file, DataPattern pattern, long bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(SEQ_IO);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      if (ch.size() != bytes) {
        throw new CellRunner.WrongDataException(file + " is " + ch.size() + " bytes after the fio runs, not " + bytes);
      }
      for (long at = 0; at < bytes; at += buf.capacity()) {
        buf.clear().limit((int) Math.min(buf.capacity(), bytes - at));
        while (buf.hasRemaining() && ch.read(buf, at + buf.position()) >= 0) {
          // Until the buffer is full or the file ends.
        }
        if (buf.hasRemaining() || !pattern.matches(buf, 0, buf.limit(), at, 0)) {
          throw new CellRunner.WrongDataException(String.format(Locale.ROOT, "%s read back through the mount: wrong bytes at %d",
              file, buf.hasRemaining() ? at + buf.position() : pattern.firstMismatch(buf, 0, buf.limit(), at, 0)));
        }
      }
    }
  }
}
