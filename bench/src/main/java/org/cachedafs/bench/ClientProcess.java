package org.cachedafs.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One {@link WorkerMain} JVM: started with a spec, released through its gate, and read for its report.
 * Its standard error goes to a log file beside the results, for when it fails.
 */
final class ClientProcess implements AutoCloseable {
  private final Process process;
  private final BufferedReader out;
  private final Writer in;
  private final Path log;
  private final String name;

  private ClientProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
  }

  /**
   * Starts a worker; {@code prefix} comes before {@code java} on the command line (to enter the NFS
   * peer's network namespace), and may be empty.
   */
  static ClientProcess start(String name, WorkerSpec spec, List<String> prefix, Path logDir) throws IOException {
    Files.createDirectories(logDir);
    Path specFile = logDir.resolve(name + ".spec.json");
    Json.mapper().writeValue(specFile.toFile(), spec);
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx768m");
    cmd.add("-XX:MaxDirectMemorySize=4g");
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(WorkerMain.class.getName());
    cmd.add(specFile.toString());
    Path log = logDir.resolve(name + ".log");
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    return new ClientProcess(name, p, log);
  }

  /**
   * Waits until the worker is at its gate; a worker not there within {@code timeoutSeconds} (its
   * warm-up hung) is killed, which ends its output and so the wait.
   */
  void awaitReady(long timeoutSeconds) throws IOException {
    AtomicBoolean ready = new AtomicBoolean();
    CompletableFuture.delayedExecutor(timeoutSeconds, TimeUnit.SECONDS).execute(() -> {
      if (!ready.get()) {
        process.destroyForcibly();
      }
    });
    try {
      awaitGate(timeoutSeconds);
    } finally {
      ready.set(true);
    }
  }

  private void awaitGate(long timeoutSeconds) throws IOException {
    String line;
    while ((line = out.readLine()) != null) {
      if (line.equals(WorkerMain.READY)) {
        return;
      }
      if (line.startsWith(WorkerMain.REPORT)) {
        throw new IOException(name + " ended before its gate: " + line.substring(WorkerMain.REPORT.length()) + logTail());
      }
    }
    throw new IOException(name + " ended before its gate (or was not there within " + timeoutSeconds + " s)" + logTail());
  }

  /** Opens the worker's gate. */
  void go() throws IOException {
    in.write("GO\n");
    in.flush();
  }

  /** The worker's report; fails if the worker failed or sent none in time. */
  WorkerReport report(long timeoutSeconds) throws IOException, InterruptedException {
    ObjectMapper json = Json.mapper();
    // A worker that hangs is killed, which ends its output and so this loop.
    CompletableFuture.delayedExecutor(timeoutSeconds, TimeUnit.SECONDS).execute(process::destroyForcibly);
    String line;
    WorkerReport report = null;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(WorkerMain.REPORT)) {
        report = json.readValue(line.substring(WorkerMain.REPORT.length()), WorkerReport.class);
      } else if (line.equals(WorkerMain.READY)) {
        go(); // a gate nobody waits for
      }
    }
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException(name + " did not end" + logTail());
    }
    if (report == null) {
      throw new IOException(name + " sent no report within " + timeoutSeconds + " s (exit " + process.exitValue() + ")" + logTail());
    }
    if (report.error() != null) {
      throw new IOException(name + " failed: " + report.error() + logTail());
    }
    return report;
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return "\n  " + name + "'s log (" + log + "):\n    "
          + String.join("\n    ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  /** Kills the worker if it still runs, and waits (briefly) until it has gone, so what it held is free. */
  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
