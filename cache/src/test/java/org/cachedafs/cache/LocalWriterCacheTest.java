package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Local writers against the client cache, at random: one application reads and writes a file through
 * its cache (under the delegations the server grants), while a process on the server's host writes,
 * truncates, renames, replaces and recreates the same file behind the server's back, interleaved one
 * operation at a time. Every read through the cache must return exactly what a model of all the
 * operations so far says: not one stale byte (docs/consistency.md, "Local writers").
 *
 * <p>The operations that open nothing (truncate(2) by path, rename, unlink) are seen only after the
 * fact; the test waits until the server has handled their event and the cache has given back the
 * delegation it recalled before the application goes on, which is the window the consistency model states, and has the
 * application write back first, since a write-back inside that window lands after the change. Needs root (fanotify's permission events);
 * skipped, saying so, without it. {@code -Dcachedafs.localwriters.ops=N}, {@code .seed=S}.
 */
class LocalWriterCacheTest {
  static final int BLOCK = 4096;
  static final int MAX = 16 * BLOCK;
  @TempDir Path tmp;

  /** The file as every operation so far left it. */
  private static final class Model {
    byte[] bytes;

    Model(byte[] initial) {
      bytes = initial.clone();
    }

    void write(long at, byte[] b) {
      int end = (int) at + b.length;
      if (end > bytes.length) {
        bytes = Arrays.copyOf(bytes, end);
      }
      System.arraycopy(b, 0, bytes, (int) at, b.length);
    }

    void truncate(int length) {
      bytes = Arrays.copyOf(bytes, length);
    }
  }

  @Test
  void aRandomizedRunOfLocalAndRemoteOperationsNeverReadsStaleBytes() throws Exception {
    long seed = Long.getLong("cachedafs.localwriters.seed", System.nanoTime());
    int ops = Integer.getInteger("cachedafs.localwriters.ops", Boolean.getBoolean("cachedafs.soak") ? 100_000 : 10_000);
    System.out.printf("LocalWriterCacheTest: %d operations, -Dcachedafs.localwriters.seed=%d%n", ops, seed);
    SplittableRandom rnd = new SplittableRandom(seed);
    Path export = Files.createDirectories(tmp.resolve("export"));
    Model model = new Model(bytes(rnd, 8 * BLOCK));
    Files.write(export.resolve("f"), model.bytes);

    try (DafsServer server = DafsServer.start(ServerOptions.of(export).withLease(Duration.ofSeconds(10)))) {
      Assumptions.assumeTrue(server.localWritersFenced(), "local writers cannot be fenced here (fanotify needs root or CAP_SYS_ADMIN)");
      LongSupplier afterTheFact = () -> server.stats().localFence().changesAfterTheFact();
      try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
          CacheManager cache = CacheManager.create(s, CacheBehaviourTest.small(64));
          ManagedProcess local = ManagedProcess.client(LocalOpsMain.class, List.of(export.toString()))) {
        CachedFile f = cache.open(s.root(), "f", OpenMode.readWrite());
        ByteBuffer buf = ByteBuffer.allocate(MAX + BLOCK);
        long reads = 0;
        long cachedReads = 0;
        long localOps = 0;
        java.util.ArrayDeque<String> recent = new java.util.ArrayDeque<>(); // the operations before a failure, for its message
        for (int i = 0; i < ops; i++) {
          int k = rnd.nextInt(100);
          if (recent.size() == 12) {
            recent.removeFirst();
          }
          recent.addLast(i + ":" + k + (f.isCached() ? "c" : "") + (f.isWriteBack() ? "w" : "") + " len " + model.bytes.length);
          if (k < 35) {
            boolean cached = f.isCached();
            int n = CacheBehaviourTest.readFully(f, 0, buf.clear());
            byte[] read = Arrays.copyOf(buf.array(), n);
            if (!Arrays.equals(model.bytes, read)) {
              throw new AssertionError("operation " + i + " (seed " + seed + "): a read " + (cached ? "from the cache" : "from the server")
                  + " returned " + describe(read, model.bytes) + "; the operations before (number:kind, c cached, w write-back): " + recent + "; on the disk now: "
                  + describe(Files.readAllBytes(export.resolve("f")), model.bytes));
            }
            reads++;
            cachedReads += cached ? 1 : 0;
          } else if (k < 55) {
            byte[] b = bytes(rnd, 1 + rnd.nextInt(2 * BLOCK));
            long at = rnd.nextInt(MAX - b.length);
            ByteBuffer src = ByteBuffer.wrap(b);
            while (src.hasRemaining()) {
              f.write(at + src.position(), src);
            }
            model.write(at, b);
          } else if (k < 60) {
            f.sync();
          } else if (k < 68) {
            // Delegations come with opens: an application that opens the file again may cache it again.
            f.close();
            f = cache.open(s.root(), "f", OpenMode.readWrite());
          } else if (k < 88) {
            byte[] b = bytes(rnd, 1 + rnd.nextInt(2 * BLOCK));
            long at = rnd.nextInt(MAX - b.length);
            local.ok("write f " + at + " " + HexFormat.of().formatHex(b));
            model.write(at, b);
            localOps++;
          } else if (k < 92) {
            int length = rnd.nextInt(MAX);
            local.ok("truncate-open f " + length);
            model.truncate(length);
            localOps++;
          } else {
            // Seen after the fact: written back first, then the change, then its event handled.
            f.sync();
            long seen = afterTheFact.getAsLong();
            if (k < 94) {
              int length = rnd.nextInt(MAX);
              local.ok("truncate-path f " + length);
              model.truncate(length);
            } else if (k < 96) {
              local.ok("rename f");
            } else {
              byte[] b = bytes(rnd, rnd.nextInt(MAX));
              // The application's open still names the file it opened, as a local descriptor would:
              // its next open of the name must see the new file.
              f.close();
              local.ok((k < 98 ? "replace f " : "recreate f ") + HexFormat.of().formatHex(b));
              model = new Model(b);
            }
            localOps++;
            awaitIncrease(afterTheFact, seen, "the server to handle the change by path of operation " + i);
            if (k < 96) {
              // The open goes on naming the changed file: the recall the event caused must have reached
              // the cache. (Counters would not do: an earlier write's late event may have moved them.)
              CachedFile open = f;
              awaitTrue(() -> !open.isCached(), "the cache to give back its delegation after operation " + i);
            } else {
              f = cache.open(s.root(), "f", OpenMode.readWrite());
            }
          }
        }
        f.close();
        byte[] onDisk = Files.readAllBytes(export.resolve("f"));
        assertEquals(model.bytes.length, onDisk.length, "the file's length at the end");
        assertTrue(Arrays.equals(model.bytes, onDisk), "the file at the end: " + describe(onDisk, model.bytes));
        var fence = server.stats().localFence();
        System.out.printf("reads %d (%d from the cache), local operations %d, cache hits %d, fence: %s%n",
            reads, cachedReads, localOps, cache.stats().hits(), fence);
        // Not a run that checked nothing: reads were served from the cache, and local opens recalled its delegations.
        assertTrue(cachedReads >= reads / 20, "reads from the cache: " + cachedReads + " of " + reads);
        assertTrue(fence.recalls() >= ops / 200, "delegations recalled for local opens: " + fence.recalls());
      }
    }
  }

  private static byte[] bytes(SplittableRandom rnd, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) rnd.nextInt(256);
    }
    return b;
  }

  private static void awaitIncrease(LongSupplier counter, long from, String what) throws InterruptedException {
    awaitTrue(() -> counter.getAsLong() > from, what);
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "waited 10 s for " + what);
      Thread.sleep(1);
    }
  }

  private static String describe(byte[] got, byte[] expected) {
    int i = Arrays.mismatch(got, expected);
    return got.length + " bytes where the model has " + expected.length + ", first difference at byte " + i;
  }
}
