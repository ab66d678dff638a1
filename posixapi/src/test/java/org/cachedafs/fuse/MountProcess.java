package org.cachedafs.fuse;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.ClientOptions;

/**
 * A dafs-mount process from the mount jar, in the foreground on a test's mount point. {@link #close}
 * always leaves the mount point unmounted ({@code fusermount -u}, lazily if something still holds it)
 * and the process gone, whatever the test did to it.
 */
final class MountProcess implements AutoCloseable {
  final Process process;
  final Path mountPoint;
  /** What the process printed after "mounted" (its standard output), for tests that check its last words. */
  private final StringBuffer later = new StringBuffer();
  /** Reads {@link #later}; done once the process has closed its standard output. */
  private Thread drain;
  private final Path stderr;

  private MountProcess(Process process, Path mountPoint, Path stderr) {
    this.process = process;
    this.mountPoint = mountPoint;
    this.stderr = stderr;
  }

  static Path jar() {
    Path jar = Path.of(System.getProperty("dafs.mount.jar", "target/dafs-mount.jar"));
    assertTrue(Files.isRegularFile(jar), "the mount jar is built before the integration tests: " + jar.toAbsolutePath());
    return jar;
  }

  /** Mounts {@code server}'s export on {@code mountPoint}; returns once the process says it is mounted. */
  static MountProcess start(URI server, Path mountPoint) throws IOException {
    Programs.require("fusermount", "fuse");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-D" + ClientOptions.TRANSPORT_PROPERTY + "=" + System.getProperty(ClientOptions.TRANSPORT_PROPERTY, "auto"),
        "-jar", jar().toString(), server + "/", mountPoint.toString(), "--foreground", "--cache-size", "32m"));
    Path err = Files.createTempFile("dafs-mount-", ".stderr");
    Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
    MountProcess m = new MountProcess(p, mountPoint, err);
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    List<String> seen = new ArrayList<>();
    while ((line = out.readLine()) != null) {
      seen.add(line);
      if (line.startsWith("mounted ")) {
        m.drain = new Thread(() -> {
          try {
            String l;
            while ((l = out.readLine()) != null) {
              m.later.append(l).append('\n');
            }
          } catch (IOException ignored) {
            // The process is gone.
          }
        }, "mount-stdout");
        m.drain.setDaemon(true);
        m.drain.start();
        return m;
      }
    }
    m.close();
    throw new IOException("dafs-mount exited before mounting: " + seen + "; stderr: " + Files.readString(err));
  }

  /** Whether the kernel lists the mount point as mounted (it does a dead one, after SIGKILL, too). */
  boolean mounted() throws IOException {
    String target = mountPoint.toAbsolutePath().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].equals(target)) {
        return true;
      }
    }
    return false;
  }

  /** {@code fusermount -u MOUNTPOINT}, plus {@code -z} if asked: its exit code. */
  int fusermount(boolean lazy) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("fusermount", "-u"));
    if (lazy) {
      cmd.add("-z");
    }
    cmd.add(mountPoint.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

  /** Waits for the process to end, and for all it printed; its exit code. */
  int awaitExit() throws InterruptedException {
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "dafs-mount ended within a minute");
    drain.join(TimeUnit.SECONDS.toMillis(10));
    return process.exitValue();
  }

  String laterOutput() {
    return later.toString();
  }

  String stderr() throws IOException {
    return Files.readString(stderr);
  }

  @Override
  public void close() throws IOException {
    try {
      if (mounted() && fusermount(false) != 0) {
        fusermount(true); // still held open by something the test left: at least out of the namespace
      }
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    } finally {
      System.err.print(Files.readString(stderr)); // into the test's report: what the mount logged
      Files.deleteIfExists(stderr);
    }
  }
}
