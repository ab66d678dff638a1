package org.cachedafs.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.transport.Region;

/**
 * The server's throughput of random 4 KiB reads when it is the bottleneck, with and without ODAFS:
 * a {@link ServerProcess} pinned to one CPU ({@code taskset}), and {@code clients} client processes
 * reading the hot set at once, each warmed up first and all started together. On shm an accepted
 * ODAFS read asks nothing of the server, so the clients' own CPUs become the limit.
 *
 * @param transport the clients' transport
 * @param optimistic whether they read the exported cache first (ODAFS)
 * @param clients client processes
 * @param readsPerSecond reads completed per second, all clients together
 * @param serverCpuShare the server's CPU time over the timed part, as a share of one CPU
 */
record ServerThroughputProbe(String transport, boolean optimistic, int clients, double readsPerSecond, double serverCpuShare) {
  private static final String READY = "ready";
  private static final String DONE = "reads ";

  /** Both read paths on each transport, against one pinned server process; the RPC path first. */
  static List<ServerThroughputProbe> measure(List<String> transports, int clients, double seconds) throws IOException {
    try (ServerProcess server = ServerProcess.start(0)) {
      List<ServerThroughputProbe> probes = new ArrayList<>();
      for (String t : transports) {
        probes.add(probe(server, t, false, clients, seconds));
        probes.add(probe(server, t, true, clients, seconds));
      }
      return probes;
    }
  }

  private static ServerThroughputProbe probe(ServerProcess server, String transport, boolean optimistic, int clients, double seconds)
      throws IOException {
    List<Process> children = new ArrayList<>();
    try {
      for (int i = 0; i < clients; i++) {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
            ServerThroughputProbe.class.getName(), server.uri().toString(), transport, Boolean.toString(optimistic),
            Double.toString(seconds), Integer.toString(i));
        children.add(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start());
      }
      List<BufferedReader> outs = new ArrayList<>();
      for (Process p : children) {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        expect(out, READY, p);
        outs.add(out);
      }
      long cpuBefore = server.cpuNanos();
      long t0 = System.nanoTime();
      for (Process p : children) {
        Writer in = new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
        in.write("go\n");
        in.flush();
      }
      long reads = 0;
      for (int i = 0; i < children.size(); i++) {
        reads += Long.parseLong(expect(outs.get(i), DONE, children.get(i)).substring(DONE.length()).strip());
      }
      double elapsed = (System.nanoTime() - t0) / 1e9;
      double cpu = (server.cpuNanos() - cpuBefore) / 1e9;
      // Each client times its own window of `seconds`; they start within a few ms of each other.
      return new ServerThroughputProbe(transport, optimistic, clients, reads / seconds, cpu / elapsed);
    } finally {
      for (Process p : children) {
        p.destroyForcibly();
      }
      for (Process p : children) {
        try {
          p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static String expect(BufferedReader out, String prefix, Process p) throws IOException {
    String line = out.readLine();
    if (line == null || !line.startsWith(prefix)) {
      throw new IOException("a throughput client process " + (line == null ? "ended (exit " + exit(p) + ")" : "said '" + line + "'")
          + " where it should have said '" + prefix.strip() + "'");
    }
    return line;
  }

  private static String exit(Process p) {
    try {
      return p.waitFor(5, TimeUnit.SECONDS) ? Integer.toString(p.exitValue()) : "still running";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  /** One client process: URI, transport, optimistic, seconds, seed. */
  public static void main(String[] args) throws IOException {
    URI uri = URI.create(args[0]);
    String transport = args[1];
    boolean optimistic = Boolean.parseBoolean(args[2]);
    long nanos = (long) (Double.parseDouble(args[3]) * 1e9);
    SplittableRandom rnd = new SplittableRandom(100 + Long.parseLong(args[4]));
    PrintStream out = System.out;
    try (DafsSession s = DafsClient.connect(uri, ServerCpuProbe.options(transport, optimistic, "bench-throughput"));
        Region r = s.allocate(ServerCpuProbe.READ)) {
      OpenFile f = s.open(s.root(), ServerProcess.FILE, OpenMode.read());
      ServerCpuProbe.warm(s, f, r, 3000, rnd);
      out.println(READY);
      out.flush();
      if (new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine() == null) {
        return;
      }
      long reads = 0;
      long end = System.nanoTime() + nanos;
      do {
        for (int i = 0; i < 64; i++) {
          s.readDirect(f, rnd.nextLong(ServerCpuProbe.HOT_BLOCKS) * ServerCpuProbe.READ, r, 0, ServerCpuProbe.READ);
        }
        reads += 64;
      } while (System.nanoTime() < end);
      out.println(DONE + reads);
      out.flush();
    }
  }
}
