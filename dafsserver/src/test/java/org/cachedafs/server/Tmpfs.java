package org.cachedafs.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A small tmpfs mounted for one test, so the file system's own errors are real: ENOSPC when it is
 * full, EROFS once remounted read-only. Mounting needs root (CAP_SYS_ADMIN); without it the test is
 * skipped, saying why. Shared with the cache and posix modules' tests through this module's test jar.
 */
public final class Tmpfs implements AutoCloseable {
  public final Path dir;

  private Tmpfs(Path dir) {
    this.dir = dir;
  }

  public static Tmpfs mount(Path dir, String size) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    String out;
    int rc;
    try {
      Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()).redirectErrorStream(true).start();
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      rc = p.waitFor();
    } catch (IOException e) {
      out = e.getMessage();
      rc = -1;
    }
    Assumptions.assumeTrue(rc == 0, "a tmpfs could not be mounted (it needs root or CAP_SYS_ADMIN), so no real ENOSPC or EROFS can be made: " + out);
    return new Tmpfs(dir);
  }

  /** Remounts with other options: "ro", "size=8m". */
  public void remount(String options) throws IOException, InterruptedException {
    run("mount", "-o", "remount," + options, dir.toString());
  }

  @Override
  public void close() throws IOException, InterruptedException {
    if (!run("umount", dir.toString())) {
      run("umount", "-l", dir.toString()); // something still holds it: detach now, freed when let go
    }
  }

  private static boolean run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    int rc = p.waitFor();
    if (rc != 0 && command[0].equals("mount")) {
      throw new IOException(String.join(" ", command) + " failed: " + out);
    }
    return rc == 0;
  }
}
