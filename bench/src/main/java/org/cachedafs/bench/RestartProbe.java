package org.cachedafs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.cache.CachedFile;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.client.RecallListener;
import org.cachedafs.protocol.LockRange;

/**
 * What a server restart costs its clients: a {@link ServerProcess} killed with -9 and started again on
 * the same export, address and state directory, while they work.
 *
 * <ul>
 *   <li>The <b>pause</b> an application sees: one application writes 4 KiB through its cache and
 *       fsyncs, again and again, each round trip reaching the server; across each restart, its
 *       longest operation is the pause (the server's start, the client's reconnect with its
 *       back-off, the reclaim, the operation itself).
 *   <li>The <b>time to reclaim</b> as clients grow: that many sessions, each holding opens of four
 *       files, a WRITE delegation and a byte-range lock on each, are told nothing; from the restarted
 *       server listening until every one of them has its state back and one write done through an
 *       open from before.
 * </ul>
 *
 * @param pauseMillis per restart, the application's longest operation across it, ms
 * @param reclaimMillis per client count, from the server listening again until all were working, ms
 */
record RestartProbe(List<Double> pauseMillis, java.util.Map<Integer, Double> reclaimMillis) {
  /** The client counts the time to reclaim is measured at. */
  static final List<Integer> CLIENTS = List.of(1, 4, 16);
  static final int FILES_PER_CLIENT = 4;
  /** A short lease and grace, as a test's: a real deployment's grace only bounds a client that never returns. */
  static final List<String> SERVER_OPTIONS = List.of("--lease-ms", "2000");

  static RestartProbe measure(int restarts) throws IOException, InterruptedException {
    try (ServerProcess server = ServerProcess.start(null, SERVER_OPTIONS)) {
      List<Double> pauses = pauses(server, restarts);
      java.util.Map<Integer, Double> reclaim = new java.util.LinkedHashMap<>();
      for (int n : CLIENTS) {
        reclaim.put(n, reclaim(server, n));
      }
      return new RestartProbe(pauses, reclaim);
    }
  }

  private static ClientOptions options(String name) {
    return ClientOptions.defaults().withClientName(name).withReconnectTimeout(Duration.ofSeconds(30)).withRequestTimeout(Duration.ofSeconds(60));
  }

  /** The application's longest operation across each of {@code restarts} restarts. */
  private static List<Double> pauses(ServerProcess server, int restarts) throws IOException, InterruptedException {
    List<Double> pauses = new ArrayList<>();
    try (DafsSession s = DafsClient.connect(server.uri(), options("bench-restart-app"));
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withCapacity(4 << 20).withSlabBytes(4 << 20))) {
      CachedFile f = cache.open(s.root(), "app", OpenMode.readWrite().create(0644));
      AtomicLong ops = new AtomicLong();
      AtomicLong longest = new AtomicLong();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread app = new Thread(() -> {
        ByteBuffer block = ByteBuffer.allocate(4096);
        SplittableRandom random = new SplittableRandom(3);
        try {
          while (!Thread.currentThread().isInterrupted()) {
            long t0 = System.nanoTime();
            random.nextBytes(block.array());
            f.write(random.nextInt(256) * 4096L, block.clear());
            f.sync();
            longest.accumulateAndGet(System.nanoTime() - t0, Math::max);
            ops.incrementAndGet();
          }
        } catch (Throwable t) {
          failed.set(t);
        }
      }, "bench-restart-app");
      app.start();
      try {
        for (int i = 0; i < restarts; i++) {
          awaitOps(ops, 50, failed);
          longest.set(0);
          server.restart();
          awaitOps(ops, 50, failed); // going again after the restart
          pauses.add(longest.get() / 1e6);
        }
      } finally {
        app.interrupt();
        app.join();
      }
      f.close();
    }
    return pauses;
  }

  private static void awaitOps(AtomicLong ops, long more, AtomicReference<Throwable> failed) throws IOException, InterruptedException {
    long target = ops.get() + more;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (ops.get() < target) {
      if (failed.get() != null) {
        throw new IOException("the application saw an error across a restart: " + failed.get(), failed.get());
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("the application made no progress within 60 s of a restart");
      }
      Thread.sleep(2);
    }
  }

  /** From the restarted server listening until all {@code n} clients have reclaimed and written again, ms. */
  private static double reclaim(ServerProcess server, int n) throws IOException, InterruptedException {
    List<DafsSession> sessions = new ArrayList<>();
    List<OpenFile> files = new ArrayList<>();
    try {
      for (int c = 0; c < n; c++) {
        DafsSession s = DafsClient.connect(server.uri(), options("bench-reclaim-" + c));
        sessions.add(s);
        s.setRecallListener(new RecallListener() {
          @Override
          public void onRecall(long id, org.cachedafs.protocol.FileHandle handle) {
            s.returnDelegationAsync(id, handle);
          }
        });
        for (int i = 0; i < FILES_PER_CLIENT; i++) {
          OpenFile f = s.open(s.root(), "reclaim-" + n + "-" + c + "-" + i, OpenMode.readWrite().create(0644));
          s.lock(f, new LockRange(0, 1, true));
          files.add(f);
        }
      }
      server.restart();
      long listening = System.nanoTime();
      List<CompletableFuture<Integer>> writes = new ArrayList<>();
      for (int c = 0; c < n; c++) {
        writes.add(sessions.get(c).writeAsync(files.get(c * FILES_PER_CLIENT), 0, ByteBuffer.wrap(new byte[] {1})));
      }
      CountDownLatch done = new CountDownLatch(1);
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> done.countDown());
      if (!done.await(60, TimeUnit.SECONDS)) {
        throw new IOException(n + " clients did not all reclaim within 60 s");
      }
      long took = System.nanoTime() - listening;
      for (CompletableFuture<Integer> w : writes) {
        w.join(); // an error here is a client that could not reclaim: the probe fails, saying so
      }
      return took / 1e6;
    } finally {
      for (DafsSession s : sessions) {
        s.close();
      }
    }
  }
}
