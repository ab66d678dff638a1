package org.cachedafs.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.server.ServerMain;
import org.cachedafs.transport.Region;

/**
 * What one direct read costs the server's CPU, per transport: a server in a process of its own (so
 * that its CPU is its own), one session reading random 4 KiB blocks of a file in the server's page
 * cache by READ_DIRECT into allocated memory, and the server process's CPU time over those reads —
 * its user and system time from {@code /proc/PID/stat}, which counts every thread, ended ones too:
 * workers, receive threads, timers, the JIT and the collector.
 *
 * @param transport the session's transport
 * @param reads direct reads timed
 * @param cpuMicrosPerRead the server's CPU µs per read
 * @param p50Micros the median read latency the client saw, µs
 */
record ServerCpuProbe(String transport, long reads, double cpuMicrosPerRead, double p50Micros) {
  private static final int READ = 4096;
  private static final long FILE_BYTES = 64L << 20;

  /**
   * One probe per transport, against one server process on a scratch export of its own. Everything
   * it starts or writes is gone when it returns, whether it succeeded or not; a server that fails to
   * start is reported with the end of its standard error.
   */
  static List<ServerCpuProbe> measure(List<String> transports, int reads) throws IOException, InterruptedException {
    Path export = Files.createTempDirectory("dafs-bench-server-cpu-");
    Path log = Files.createTempFile("dafs-bench-server-cpu-", ".log");
    Process server = null;
    try {
      byte[] block = new byte[1 << 20];
      new SplittableRandom(11).nextBytes(block);
      try (var out = Files.newOutputStream(export.resolve("f"))) {
        for (long done = 0; done < FILE_BYTES; done += block.length) {
          out.write(block);
        }
      }
      List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
          "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"), ServerMain.class.getName(),
          "--export", export.toString(), "--listen", "tcp://127.0.0.1:0");
      server = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
      URI uri = awaitListening(server, log);
      List<ServerCpuProbe> probes = new ArrayList<>();
      for (String t : transports) {
        probes.add(probe(server.pid(), uri, t, reads));
      }
      return probes;
    } finally {
      if (server != null) {
        server.destroy();
        if (!server.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          server.destroyForcibly().waitFor();
        }
      }
      try (Stream<Path> files = Files.list(export)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(export);
      Files.deleteIfExists(log);
    }
  }

  private static ServerCpuProbe probe(long pid, URI uri, String transport, int reads) throws IOException {
    try (DafsSession s = DafsClient.connect(uri, ClientOptions.defaults().withTransport(transport).withClientName("bench-server-cpu"));
        Region r = s.allocate(READ)) {
      OpenFile f = s.open(s.root(), "f", OpenMode.read());
      SplittableRandom rnd = new SplittableRandom(5);
      long blocks = FILE_BYTES / READ;
      for (int i = 0; i < Math.min(reads, 5000); i++) { // warm-up: the JIT, and the file into the page cache
        s.readDirect(f, rnd.nextLong(blocks) * READ, r, 0, READ);
      }
      long[] nanos = new long[reads];
      long cpuBefore = processCpuNanos(pid);
      for (int i = 0; i < reads; i++) {
        long t0 = System.nanoTime();
        s.readDirect(f, rnd.nextLong(blocks) * READ, r, 0, READ);
        nanos[i] = System.nanoTime() - t0;
      }
      long cpu = processCpuNanos(pid) - cpuBefore;
      s.close(f);
      Arrays.sort(nanos);
      return new ServerCpuProbe(s.transport(), reads, cpu / 1e3 / reads, nanos[reads / 2] / 1e3);
    }
  }

  /**
   * The CPU time of process {@code pid} so far, in ns: user and system time from {@code
   * /proc/PID/stat}, which keeps the time of threads that have ended (the JIT retires compiler
   * threads as it calms down; summing the live threads' times would lose theirs). Its unit is the
   * kernel's clock tick, 10 ms (USER_HZ is 100 on Linux), 1% of a probe of a second or more.
   */
  static long processCpuNanos(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime: fields 14 and 15
    return ticks * 10_000_000L;
  }

  private static URI awaitListening(Process p, Path log) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("listening on ")) {
        Thread drain = new Thread(() -> {
          try {
            while (out.readLine() != null) {
              // The rest of its output is not needed.
            }
          } catch (IOException ignored) {
            // It ended.
          }
        }, "server-cpu-output");
        drain.setDaemon(true);
        drain.start();
        return URI.create(line.substring("listening on ".length()).strip());
      }
    }
    List<String> err = Files.readAllLines(log);
    throw new IOException("the server process for the CPU probe ended without listening"
        + (err.isEmpty() ? "" : ": " + String.join(" | ", err.subList(Math.max(0, err.size() - 3), err.size()))));
  }
}
