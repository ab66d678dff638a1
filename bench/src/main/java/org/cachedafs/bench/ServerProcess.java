package org.cachedafs.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.cachedafs.server.ServerMain;

/**
 * A DAFS server in a process of its own, on a scratch export holding one file {@code f} of {@link
 * #FILE_BYTES} random bytes, so that the server's CPU is its own to read and, with a CPU given, it
 * runs pinned there ({@code taskset}); {@link #restart} kills it with -9 and starts it again on the
 * same export, address and state directory. It owns the process, the export, the state directory and
 * the log: {@link #close} stops the one and removes the others, on every path; a server that will not
 * start is reported with the end of its standard error.
 */
final class ServerProcess implements AutoCloseable {
  static final long FILE_BYTES = 64L << 20;
  static final String FILE = "f";

  private final Path export;
  private final Path state;
  private final Path log;
  /** How it was started, and is started again by {@link #restart}. */
  private final List<String> command;
  private volatile Process process;
  private final URI uri;

  private ServerProcess(Path export, Path state, Path log, List<String> command, Process process, URI uri) {
    this.export = export;
    this.state = state;
    this.log = log;
    this.command = command;
    this.process = process;
    this.uri = uri;
  }

  /** Starts one; {@code cpu} pins it to that CPU (null: unpinned). */
  static ServerProcess start(Integer cpu) throws IOException {
    return start(cpu, List.of());
  }

  /** Starts one with more server options ({@code --lease-ms}, {@code --grace-ms}). */
  static ServerProcess start(Integer cpu, List<String> options) throws IOException {
    Path export = Files.createTempDirectory("dafs-bench-server-");
    Path state = Files.createTempDirectory("dafs-bench-state-");
    Path log = Files.createTempFile("dafs-bench-server-", ".log");
    Process server = null;
    try {
      byte[] block = new byte[1 << 20];
      new SplittableRandom(11).nextBytes(block);
      try (var out = Files.newOutputStream(export.resolve(FILE))) {
        for (long done = 0; done < FILE_BYTES; done += block.length) {
          out.write(block);
        }
      }
      List<String> cmd = new ArrayList<>();
      if (cpu != null) {
        cmd.addAll(List.of("taskset", "-c", cpu.toString()));
      }
      cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
          "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"), ServerMain.class.getName(),
          "--export", export.toString(), "--state-dir", state.toString()));
      cmd.addAll(options);
      List<String> first = new ArrayList<>(cmd);
      first.addAll(List.of("--listen", "tcp://127.0.0.1:0"));
      server = new ProcessBuilder(first).redirectError(log.toFile()).start();
      URI uri = awaitListening(server, log);
      // A restart listens where the first start did, as a restarted server must for its clients.
      cmd.addAll(List.of("--listen", "tcp://" + uri.getHost() + ":" + uri.getPort()));
      ServerProcess p = new ServerProcess(export, state, log, List.copyOf(cmd), server, uri);
      server = null;
      return p;
    } catch (IOException | RuntimeException e) {
      stop(server);
      remove(export, state, log);
      throw e;
    }
  }

  /**
   * Kills the server with SIGKILL (nothing written, nothing said to its clients) and starts it again
   * on the same export, address and state directory; returns once it listens.
   */
  void restart() throws IOException {
    Process old = process;
    old.destroyForcibly();
    try {
      old.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while killing the server process");
    }
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    try {
      awaitListening(p, log);
    } catch (IOException | RuntimeException e) {
      stop(p);
      throw e;
    }
    process = p;
  }

  URI uri() {
    return uri;
  }

  /** The id of the server's JVM (with {@code taskset} in front, taskset execs it: the same process). */
  long pid() {
    return process.pid();
  }

  /**
   * The CPU time of the server so far, in ns: user and system time from {@code /proc/PID/stat},
   * which keeps the time of threads that have ended (the JIT retires compiler threads as it calms
   * down; summing the live threads' times would lose theirs). Its unit is the kernel's clock tick,
   * 10 ms (USER_HZ is 100 on Linux), 1% of a probe of a second or more.
   */
  long cpuNanos() throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime: fields 14 and 15
    return ticks * 10_000_000L;
  }

  @Override
  public void close() throws IOException {
    try {
      stop(process);
    } finally {
      remove(export, state, log);
    }
  }

  private static void stop(Process p) throws IOException {
    if (p == null) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping the server process");
    }
  }

  private static void remove(Path export, Path state, Path log) throws IOException {
    for (Path dir : List.of(export, state)) {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
    Files.deleteIfExists(log);
  }

  /**
   * Reads and drops the rest of a child process's output on a daemon thread, so that the child never
   * blocks on a full pipe; the thread ends with the process.
   */
  static void drain(BufferedReader out, String thread) {
    Thread t = new Thread(() -> {
      try {
        while (out.readLine() != null) {
          // The rest of its output is not needed.
        }
      } catch (IOException ignored) {
        // It ended.
      }
    }, thread);
    t.setDaemon(true);
    t.start();
  }

  private static URI awaitListening(Process p, Path log) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("listening on ")) {
        drain(out, "server-process-output");
        return URI.create(line.substring("listening on ".length()).strip());
      }
    }
    List<String> err = Files.readAllLines(log);
    throw new IOException("the server process ended without listening"
        + (err.isEmpty() ? "" : ": " + String.join(" | ", err.subList(Math.max(0, err.size() - 3), err.size()))));
  }
}
