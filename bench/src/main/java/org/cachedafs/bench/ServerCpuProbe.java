package org.cachedafs.bench;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OdafsStats;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.transport.Region;

/**
 * What one 4 KiB read costs the server's CPU, and how long it takes, per transport and read path: a
 * {@link ServerProcess} (so that its CPU is its own), one session reading random blocks of a hot set
 * that fits both the server's page cache and its exported cache, into allocated memory, and the
 * server process's CPU time over those reads — every thread's, ended ones too: workers, receive
 * threads, timers, the JIT and the collector. The RPC path is READ_DIRECT; the ODAFS path is the same
 * call with optimistic reads on, after one pass over the hot set has brought a reference to each
 * block, so that it measures reads of a hot exported cache.
 *
 * @param transport the session's transport
 * @param optimistic whether the reads went to the exported cache first (ODAFS)
 * @param reads reads timed
 * @param cpuMicrosPerRead the server's CPU µs per read
 * @param p50Micros the median read latency the client saw, µs
 * @param servedOneSided of the timed reads, the share the exported cache served (0 for RPC)
 */
record ServerCpuProbe(String transport, boolean optimistic, long reads, double cpuMicrosPerRead, double p50Micros,
    double servedOneSided) {
  static final int READ = 4096;
  /** The hot set: 16 MiB, a quarter of the server's default exported cache. */
  static final long HOT_BLOCKS = 4096;

  /** Both read paths on each transport, against one server process; the RPC path first. */
  static List<ServerCpuProbe> measure(List<String> transports, int reads) throws IOException {
    try (ServerProcess server = ServerProcess.start(null)) {
      List<ServerCpuProbe> probes = new ArrayList<>();
      for (String t : transports) {
        probes.add(probe(server, t, reads, false));
        probes.add(probe(server, t, reads, true));
      }
      return probes;
    }
  }

  /** The client options of a probe's session. */
  static ClientOptions options(String transport, boolean optimistic, String name) {
    return ClientOptions.defaults().withTransport(transport).withOptimisticReads(optimistic).withClientName(name);
  }

  /**
   * Warms a session up for random reads of the hot set: every block once in order (the page cache,
   * and with ODAFS a reference to each), then random reads for the JIT.
   */
  static void warm(DafsSession s, OpenFile f, Region r, int randomReads, SplittableRandom rnd) throws IOException {
    for (long b = 0; b < HOT_BLOCKS; b++) {
      s.readDirect(f, b * READ, r, 0, READ);
    }
    for (int i = 0; i < randomReads; i++) {
      s.readDirect(f, rnd.nextLong(HOT_BLOCKS) * READ, r, 0, READ);
    }
  }

  private static ServerCpuProbe probe(ServerProcess server, String transport, int reads, boolean optimistic) throws IOException {
    URI uri = server.uri();
    try (DafsSession s = DafsClient.connect(uri, options(transport, optimistic, "bench-server-cpu"));
        Region r = s.allocate(READ)) {
      OpenFile f = s.open(s.root(), ServerProcess.FILE, OpenMode.read());
      SplittableRandom rnd = new SplittableRandom(5);
      warm(s, f, r, Math.min(reads, 5000), rnd);
      long[] nanos = new long[reads];
      OdafsStats before = s.odafsStats();
      long cpuBefore = server.cpuNanos();
      for (int i = 0; i < reads; i++) {
        long t0 = System.nanoTime();
        s.readDirect(f, rnd.nextLong(HOT_BLOCKS) * READ, r, 0, READ);
        nanos[i] = System.nanoTime() - t0;
      }
      long cpu = server.cpuNanos() - cpuBefore;
      long served = s.odafsStats().accepted() - before.accepted();
      s.close(f);
      Arrays.sort(nanos);
      return new ServerCpuProbe(s.transport(), optimistic, reads, cpu / 1e3 / reads, nanos[reads / 2] / 1e3, (double) served / reads);
    }
  }
}
