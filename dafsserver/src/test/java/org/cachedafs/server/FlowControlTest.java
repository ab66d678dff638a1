package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's back-pressure under a client that pipelines large requests both ways: with a high
 * water of 64 KiB, nearly every 1 MiB reply puts the connection over it, so the server keeps pausing
 * its reading of the client and its session's work, and resuming. Every request must still complete
 * with the right bytes: the pauses never turn into a wait the two sides cannot get out of.
 */
class FlowControlTest {
  @TempDir Path tmp;

  @Test
  void pipelinedLargeRequestsBothWaysAllCompleteUnderBackPressure() throws Exception {
    ConnectionLimits tight = ConnectionLimits.defaults().withQueue(64 * 1024, 160L << 20);
    try (ServerFixture f = new ServerFixture(tmp, o -> o.withLimits(o.limits().withConnection(tight)))) {
      DafsSession s = f.connect(ClientOptions.defaults().withCredits(64).withRequestTimeout(Duration.ofSeconds(60)));
      OpenFile file = s.open(s.root(), "flow", OpenMode.readWrite().create(0644));
      int chunk = 1 << 20;
      int chunks = 24;
      byte[] data = new byte[chunk * chunks];
      new Random(7).nextBytes(data);
      List<CompletableFuture<Integer>> writes = new ArrayList<>();
      for (int i = 0; i < chunks; i++) {
        writes.add(s.writeAsync(file, (long) i * chunk, ByteBuffer.wrap(data, i * chunk, chunk)));
      }
      for (CompletableFuture<Integer> w : writes) {
        assertEquals(chunk, w.get(60, java.util.concurrent.TimeUnit.SECONDS));
      }
      for (int round = 0; round < 3; round++) {
        // Inline reads, direct reads and writes all in flight together.
        List<ByteBuffer> inline = new ArrayList<>();
        List<CompletableFuture<Integer>> pending = new ArrayList<>();
        try (Region region = s.allocate(data.length)) {
          ByteBuffer directMemory = region.buffer();
          for (int i = 0; i < chunks; i++) {
            ByteBuffer b = ByteBuffer.allocate(chunk);
            inline.add(b);
            pending.add(s.readAsync(file, (long) i * chunk, b));
            pending.add(s.readDirectAsync(file, (long) i * chunk, region, i * chunk, chunk));
            pending.add(s.writeAsync(file, (long) i * chunk, ByteBuffer.wrap(data, i * chunk, chunk)));
          }
          for (CompletableFuture<Integer> p : pending) {
            assertEquals(chunk, p.get(60, java.util.concurrent.TimeUnit.SECONDS));
          }
          for (int i = 0; i < chunks; i++) {
            assertArrayEquals(java.util.Arrays.copyOfRange(data, i * chunk, (i + 1) * chunk), inline.get(i).array(), "inline chunk " + i);
          }
          byte[] direct = new byte[data.length];
          directMemory.get(0, direct);
          assertArrayEquals(data, direct, "direct reads, round " + round);
        }
      }
    }
  }
}
