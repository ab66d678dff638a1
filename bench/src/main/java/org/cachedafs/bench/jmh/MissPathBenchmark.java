package org.cachedafs.bench.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.cache.CachedFile;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The miss path against its baseline, in one run over an embedded server on loopback tcp: a 4 KiB
 * cached read that misses (uniform random offsets over a file 256 times the cache, read-ahead off, so
 * nearly every read fills one block by a direct transfer into the cache's memory), and the same 4 KiB
 * read uncached (one inline request). The difference is what a miss costs over going to the server
 * anyway. Run with the hit path:
 *
 * <pre>java -cp bench/target/dafs-bench.jar org.openjdk.jmh.Main PathBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MissPathBenchmark {
  static final int READ = 4096;

  /** The cache block in KiB: a miss moves a whole block. */
  @Param({"4", "64"})
  public int blockKiB;

  private Path dir;
  private DafsServer server;
  private DafsSession session;
  private CacheManager cache;
  private CachedFile cached;
  private CachedFile uncached;
  private long[] offsets;
  private int next;
  private final ByteBuffer buffer = ByteBuffer.allocate(READ);

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    long bytes = 256L << 20;
    dir = Files.createTempDirectory("dafs-jmh-miss-");
    Path export = Files.createDirectories(dir.resolve("export"));
    byte[] chunk = new byte[1 << 20];
    new Random(1).nextBytes(chunk);
    try (FileChannel out = FileChannel.open(export.resolve("cold.bin"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (long at = 0; at < bytes; at += chunk.length) {
        out.write(ByteBuffer.wrap(chunk), at);
      }
    }
    server = DafsServer.start(ServerOptions.of(export));
    session = DafsClient.connect(server.uri(), ClientOptions.defaults().withClientName("jmh-miss"));
    cache = CacheManager.create(session, CacheConfig.defaults().withBlockSize(blockKiB << 10).withCapacity(1 << 20)
        .withSlabBytes(1 << 20).withReadAhead(false));
    cached = cache.open(session.root(), "cold.bin", OpenMode.read());
    uncached = cache.open(session.root(), "cold.bin", OpenMode.read(), true);
    Random rnd = new Random(2);
    offsets = new long[1 << 16];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = (long) rnd.nextInt((int) (bytes / READ)) * READ;
    }
  }

  private long nextOffset() {
    next = (next + 1) & (offsets.length - 1);
    return offsets[next];
  }

  @Benchmark
  public int cachedMiss() throws IOException {
    buffer.clear();
    return cached.read(nextOffset(), buffer);
  }

  @Benchmark
  public int uncachedRead() throws IOException {
    buffer.clear();
    return uncached.read(nextOffset(), buffer);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    System.out.println("cache: " + cache.stats());
    cached.close();
    uncached.close();
    cache.close();
    session.close();
    server.close();
    try (Stream<Path> w = Files.walk(dir)) {
      w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
