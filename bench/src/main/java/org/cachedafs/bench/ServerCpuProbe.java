package org.cachedafs.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
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
 * the sum of its threads' run time from {@code /proc/PID/task/TID/schedstat}, in nanoseconds, which
 * counts every thread: workers, receive threads, timers, the JIT and the collector.
 *
 * @param transport the session's transport
 * @param reads direct reads timed
 * @param cpuMicrosPerRead the server's CPU µs per read
 * @param p50Micros the median read latency the client saw, µs
 */
record ServerCpuProbe(String transport, long reads, double cpuMicrosPerRead, double p50Micros) {
  private static final int READ = 4096;
  private static final long FILE_BYTES = 64L << 20;

  /** One probe per transport, against one server process on a scratch export of its own. */
  static List<ServerCpuProbe> measure(List<String> transports, int reads) throws IOException, InterruptedException {
    Path export = Files.createTempDirectory("dafs-bench-server-cpu-");
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
    Process server = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    try {
      URI uri = awaitListening(server);
      List<ServerCpuProbe> probes = new ArrayList<>();
      for (String t : transports) {
        probes.add(probe(server.pid(), uri, t, reads));
      }
      return probes;
    } finally {
      server.destroy();
      server.waitFor();
      try (Stream<Path> files = Files.list(export)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(export);
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

  /** The CPU time of every thread of process {@code pid}, from the kernel's schedstat, in ns. */
  static long processCpuNanos(long pid) throws IOException {
    long sum = 0;
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        try {
          String line = Files.readString(task.resolve("schedstat")).strip();
          sum += Long.parseLong(line.substring(0, line.indexOf(' ')));
        } catch (IOException | UncheckedIOException e) {
          // The thread ended between the listing and the read: its time is gone with it.
        }
      }
    }
    return sum;
  }

  private static URI awaitListening(Process p) throws IOException {
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
    throw new IOException("the server process for the CPU probe ended without listening");
  }
}
