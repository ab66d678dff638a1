package org.cachedafs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OdafsStats;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.transport.Region;

/**
 * How ODAFS copes with references going stale: one reader reading random blocks of the hot set with
 * optimistic reads, and before each read, with probability {@code staleness}, another session
 * rewrites that very block through the server, so the reader's reference to it no longer validates.
 * Reports the share of reads the exported cache served and the share that fell back to RPC.
 *
 * @param transport the sessions' transport
 * @param staleness the share of reads whose block was rewritten just before
 * @param reads reads made
 * @param servedShare of those, the share the exported cache served
 * @param fallbackShare the share that fell back to RPC (and came back with a fresh reference)
 */
record StalenessProbe(String transport, double staleness, long reads, double servedShare, double fallbackShare) {
  static final List<Double> LEVELS = List.of(0.0, 0.01, 0.10, 0.50);

  static List<StalenessProbe> measure(String transport, int reads) throws IOException {
    try (ServerProcess server = ServerProcess.start(null);
        DafsSession reader = DafsClient.connect(server.uri(), ServerCpuProbe.options(transport, true, "bench-staleness-reader"));
        DafsSession writer = DafsClient.connect(server.uri(), ServerCpuProbe.options(transport, false, "bench-staleness-writer"));
        Region r = reader.allocate(ServerCpuProbe.READ)) {
      OpenFile f = reader.open(reader.root(), ServerProcess.FILE, OpenMode.read());
      OpenFile w = writer.open(writer.root(), ServerProcess.FILE, OpenMode.readWrite());
      SplittableRandom rnd = new SplittableRandom(17);
      ServerCpuProbe.warm(reader, f, r, 2000, rnd);
      byte[] block = new byte[ServerCpuProbe.READ];
      List<StalenessProbe> out = new ArrayList<>();
      for (double p : LEVELS) {
        OdafsStats before = reader.odafsStats();
        for (int i = 0; i < reads; i++) {
          long at = rnd.nextLong(ServerCpuProbe.HOT_BLOCKS) * ServerCpuProbe.READ;
          if (rnd.nextDouble() < p) {
            rnd.nextBytes(block);
            writer.write(w, at, ByteBuffer.wrap(block));
          }
          reader.readDirect(f, at, r, 0, ServerCpuProbe.READ);
        }
        OdafsStats after = reader.odafsStats();
        out.add(new StalenessProbe(reader.transport(), p, reads, (double) (after.accepted() - before.accepted()) / reads,
            (double) (after.fallbacks() - before.fallbacks()) / reads));
      }
      return out;
    }
  }
}
