package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OdafsStats;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ODAFS against a local writer: a process on the server's host ({@link LocalStampWriter}) rewrites
 * stamped blocks of a file behind the server's back while a client reads them with optimistic reads.
 * Before each read begins the test takes, for the block, the newest generation the writer has
 * reported written; the read must not return an older one. With the fence every local open wipes the
 * file's exported slots before it may write, so no read ever does; without it (the control run) the
 * exported cache goes on serving what it held, and reads do.
 */
class LocalWriterOdafsTest {
  private static final boolean SOAK = Boolean.getBoolean("cachedafs.soak");
  static final int BLOCKS = 8;

  @TempDir Path tmp;

  /** What one run saw. */
  record Run(long writes, long reads, long stale, long torn, OdafsStats odafs, ServerStats.LocalFence fence) {}

  @Test
  void anOdafsReaderNeverAcceptsABlockOlderThanALocalWrite() throws Exception {
    long seed = System.nanoTime();
    Run r = run(true, SOAK ? 50_000 : 3_000, SOAK ? 200_000 : 10_000, seed);
    System.out.printf("LocalWriterOdafsTest (fenced, seed %d): %d local writes and %d reads = %d operations; %d stale, %d torn; %s; %s%n",
        seed, r.writes(), r.reads(), r.writes() + r.reads(), r.stale(), r.torn(), r.odafs(), r.fence());
    assertEquals(0, r.torn(), r.toString());
    assertEquals(0, r.stale(), "no read may return a block older than a local write reported before it began: " + r);
    assertTrue(r.writes() + r.reads() >= 10_000, r.toString());
    assertTrue(r.odafs().accepted() > 0, "between local writes the exported cache served reads: " + r);
    assertTrue(r.fence().localOpens() > 0, r.toString());
  }

  @Test
  void withoutTheFenceTheSameRunReadsStaleBlocks() throws Exception {
    long seed = System.nanoTime();
    Run r = run(false, 500, 2_000, seed);
    System.out.printf("LocalWriterOdafsTest (not fenced, seed %d): %d local writes and %d reads; %d stale; %s%n",
        seed, r.writes(), r.reads(), r.stale(), r.odafs());
    assertTrue(r.stale() > 0, "the check catches what the fence prevents: " + r);
  }

  private Run run(boolean fenced, int writes, int minReads, long seed) throws Exception {
    try (ServerFixture f = new ServerFixture(tmp.resolve(fenced ? "fenced" : "open"), o -> o.withLocalFence(fenced))) {
      if (fenced) {
        Assumptions.assumeTrue(f.server.localWritersFenced(), "local writers cannot be fenced here (fanotify needs root or CAP_SYS_ADMIN)");
      }
      Path file = f.export.resolve("stamped");
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        for (int b = 0; b < BLOCKS; b++) {
          ch.write(LocalStampWriter.stamp(b, 0), (long) b * LocalStampWriter.BLOCK);
        }
      }
      DafsSession s = f.connect(ClientOptions.defaults().withOptimisticReads(true));
      OpenFile o = s.open(s.root(), "stamped", OpenMode.read()); // from here the server watches the file
      ByteBuffer buf = ByteBuffer.allocate(LocalStampWriter.BLOCK);
      for (int b = 0; b < BLOCKS; b++) {
        s.read(o, (long) b * LocalStampWriter.BLOCK, buf.clear()); // fills the exported cache
      }

      AtomicLongArray reported = new AtomicLongArray(BLOCKS);
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process writer = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"), LocalStampWriter.class.getName(),
          file.toString(), Integer.toString(BLOCKS), Integer.toString(writes), Long.toString(seed))
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      long[] written = new long[1];
      Thread reports = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.US_ASCII))) {
          String line;
          while ((line = in.readLine()) != null && !line.equals("done")) {
            int space = line.indexOf(' ');
            int b = Integer.parseInt(line.substring(0, space));
            long g = Long.parseLong(line.substring(space + 1));
            reported.accumulateAndGet(b, g, Math::max);
            written[0]++;
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, "local-writer-reports");
      reports.start();

      SplittableRandom rnd = new SplittableRandom(seed);
      long reads = 0;
      long stale = 0;
      long torn = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SOAK ? 1200 : 120);
      try {
        while ((reports.isAlive() || reads < minReads) && System.nanoTime() < deadline) {
          int b = rnd.nextInt(BLOCKS);
          long before = reported.get(b); // written and reported before this read begins
          int n = s.read(o, (long) b * LocalStampWriter.BLOCK, buf.clear());
          assertEquals(LocalStampWriter.BLOCK, n);
          long oldest = LocalStampWriter.oldestGeneration(buf.flip(), b);
          if (oldest < 0) {
            torn++;
          } else if (oldest < before) {
            stale++;
          }
          reads++;
        }
      } finally {
        assertTrue(writer.waitFor(60, TimeUnit.SECONDS), "the local writer did not finish");
        reports.join(10_000);
      }
      assertEquals(0, writer.exitValue(), "the local writer failed");
      assertTrue(System.nanoTime() < deadline, "the run did not finish in time: " + reads + " reads");
      if (fenced) {
        for (int b = 0; b < BLOCKS; b++) {
          s.read(o, (long) b * LocalStampWriter.BLOCK, buf.clear());
          assertEquals(reported.get(b), LocalStampWriter.oldestGeneration(buf.flip(), b), "block " + b + " at the end");
        }
      }
      return new Run(written[0], reads, stale, torn, s.odafsStats(), f.server.stats().localFence());
    }
  }
}
