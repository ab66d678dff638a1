package org.cachedafs.server;

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

/**
 * The server CLI in a JVM of its own, for tests whose claim is about what one client does to the
 * others: a hostile client in this JVM cannot share a heap, threads or descriptors with it.
 * Standard error goes to a file, so a test can see how much the server logged.
 */
final class ServerProcess implements AutoCloseable {
  final Process process;
  final URI uri;
  final Path stderr;

  private ServerProcess(Process process, URI uri, Path stderr) {
    this.process = process;
    this.uri = uri;
    this.stderr = stderr;
  }

  /**
   * Starts {@code dafs-server.jar} with {@code jvmOptions} and {@code args} on a free loopback port.
   *
   * @param descriptorLimit the process's RLIMIT_NOFILE, or 0 to inherit it
   */
  static ServerProcess start(Path dir, int descriptorLimit, List<String> jvmOptions, String... args) throws IOException {
    List<String> wrapper = new ArrayList<>();
    if (descriptorLimit > 0) {
      // ulimit in a shell that then becomes the JVM: the limit applies to the server alone.
      wrapper.addAll(List.of("bash", "-c", "ulimit -n " + descriptorLimit + " && exec \"$@\"", "server"));
    }
    return start(dir, wrapper, jvmOptions, args);
  }

  /** Starts {@code dafs-server.jar} as {@link #start(Path, int, List, String...)} does, under {@code wrapper} (a command that runs its arguments). */
  static ServerProcess start(Path dir, List<String> wrapper, List<String> jvmOptions, String... args) throws IOException {
    List<String> java = new ArrayList<>();
    java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    java.addAll(jvmOptions);
    java.add("-jar");
    java.add(ServerProcessIT.jar().toAbsolutePath().toString());
    java.addAll(List.of("--listen", "tcp://127.0.0.1:0"));
    java.addAll(List.of(args));
    List<String> cmd = new ArrayList<>(wrapper);
    cmd.addAll(java);
    Path err = Files.createTempFile(dir, "server-", ".stderr");
    Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    List<String> seen = new ArrayList<>();
    while ((line = out.readLine()) != null) {
      seen.add(line);
      if (line.startsWith("listening on ")) {
        URI uri = URI.create(line.substring("listening on ".length()));
        Thread drain = new Thread(() -> {
          try {
            while (out.readLine() != null) {
              // Keep the pipe from filling; the test reads standard error from its file.
            }
          } catch (IOException ignored) {
            // The server went away.
          }
        }, "server-stdout");
        drain.setDaemon(true);
        drain.start();
        return new ServerProcess(p, uri, err);
      }
    }
    p.destroyForcibly();
    throw new IOException("the server exited before listening: " + seen + "; stderr: " + Files.readString(err));
  }

  /** The server's resident memory, from /proc. */
  long residentBytes() throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS for " + process.pid());
  }

  /** CPU time the server has used, user and system, in clock ticks (/proc/PID/stat). */
  long cpuTicks() throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  long stderrBytes() throws IOException {
    return Files.size(stderr);
  }

  boolean alive() {
    return process.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(20, TimeUnit.SECONDS);
    }
  }
}
