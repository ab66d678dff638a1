package org.cachedafs.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A command run on this host as a process of its own, as a local user would run it against the export:
 * the local-writer fence must see it as another process, never as the server.
 */
final class LocalCommand {
  private final Process process;
  private final long started = System.nanoTime();

  private LocalCommand(Process process) {
    this.process = process;
  }

  /** What a finished command did: its exit status, how long it ran, what it printed. */
  record Ran(int exit, long millis, String output) {}

  /** Starts {@code command} in {@code dir}. */
  static LocalCommand start(Path dir, String... command) throws IOException {
    return new LocalCommand(new ProcessBuilder(List.of(command)).directory(dir.toFile()).redirectErrorStream(true).start());
  }

  /** Runs {@code command} in {@code dir} to its end, at most {@code timeoutMillis}. */
  static Ran run(Path dir, long timeoutMillis, String... command) throws IOException, InterruptedException {
    return start(dir, command).await(timeoutMillis);
  }

  /** Waits for the end, at most {@code timeoutMillis}; a command still running then is killed and reported as exit -1. */
  Ran await(long timeoutMillis) throws IOException, InterruptedException {
    boolean ended = process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS);
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    if (!ended) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    return new Ran(ended ? process.exitValue() : -1, took, out);
  }

  boolean alive() {
    return process.isAlive();
  }
}
