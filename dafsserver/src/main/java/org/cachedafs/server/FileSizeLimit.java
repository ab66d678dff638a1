package org.cachedafs.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's own file size limit ({@code RLIMIT_FSIZE}, {@code ulimit -f}). The kernel enforces it
 * with a short write and then EFBIG (HotSpot ignores SIGXFSZ); the server also reports it in STATFS so
 * a client can refuse bytes past it when they are written, not when they are written back.
 */
final class FileSizeLimit {
  private FileSizeLimit() {}

  /** The soft limit in bytes; {@link Long#MAX_VALUE} if unlimited or unknown (no procfs). */
  static long ofProcess() {
    try {
      return parse(Files.readAllLines(Path.of("/proc/self/limits")));
    } catch (IOException | RuntimeException e) {
      return Long.MAX_VALUE;
    }
  }

  /** From the lines of {@code /proc/self/limits}: "Max file size  SOFT  HARD  bytes". */
  static long parse(Iterable<String> lines) {
    for (String line : lines) {
      if (line.startsWith("Max file size")) {
        String[] f = line.substring("Max file size".length()).trim().split("\\s+");
        return f.length == 0 || f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
      }
    }
    return Long.MAX_VALUE;
  }
}
