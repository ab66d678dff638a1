package org.cachedafs.bench.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
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
 * The hit path against its two baselines, over the same hot set, in one run: a 4 KiB cached read
 * through {@link CachedFile}; the user-space floor (a {@link ConcurrentHashMap} lookup with a boxed
 * key made beforehand, plus a 4 KiB copy); and the kernel (a 4 KiB {@code FileChannel.read} of the same
 * bytes from the page cache). One thread, so no wake-ups are measured. Run:
 *
 * <pre>java -cp bench/target/dafs-bench.jar org.openjdk.jmh.Main HitPathBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HitPathBenchmark {
  static final int READ = 4096;

  /** The hot set in MiB: 4 fits in the CPU caches; 256 does not. */
  @Param({"4", "256"})
  public int setMiB;

  private Path dir;
  private DafsServer server;
  private DafsSession session;
  private CacheManager cache;
  private CachedFile cached;
  private FileChannel kernel;
  private ConcurrentHashMap<Long, byte[]> floor;
  private Long[] keys;
  private long[] offsets;
  private int next;
  private final ByteBuffer buffer = ByteBuffer.allocate(READ);

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    long bytes = (long) setMiB << 20;
    dir = Files.createTempDirectory("dafs-jmh-");
    Path export = Files.createDirectories(dir.resolve("export"));
    Path file = export.resolve("hot.bin");
    byte[] chunk = new byte[1 << 20];
    new Random(1).nextBytes(chunk);
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (long at = 0; at < bytes; at += chunk.length) {
        out.write(ByteBuffer.wrap(chunk), at);
      }
    }
    server = DafsServer.start(ServerOptions.of(export));
    session = DafsClient.connect(server.uri(), ClientOptions.defaults().withClientName("jmh"));
    cache = CacheManager.create(session, CacheConfig.defaults().withCapacity(bytes * 3 / 2 + (64L << 20)).withSlabBytes(64L << 20));
    cached = cache.open(session.root(), "hot.bin", OpenMode.read());
    ByteBuffer warm = ByteBuffer.allocate(1 << 20);
    for (long at = 0; at < bytes; at += warm.capacity()) {
      warm.clear();
      while (warm.hasRemaining() && cached.read(at + warm.position(), warm) > 0) {
        // fill the cache
      }
    }
    kernel = FileChannel.open(file, StandardOpenOption.READ);
    floor = new ConcurrentHashMap<>();
    int chunks = (int) (bytes / READ);
    keys = new Long[chunks];
    for (int i = 0; i < chunks; i++) {
      keys[i] = (long) i;
      byte[] b = new byte[READ];
      kernel.read(ByteBuffer.wrap(b), (long) i * READ); // also warms the page cache
      floor.put(keys[i], b);
    }
    Random rnd = new Random(2);
    offsets = new long[1 << 16];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = (long) rnd.nextInt(chunks) * READ;
    }
  }

  private long nextOffset() {
    next = (next + 1) & (offsets.length - 1);
    return offsets[next];
  }

  @Benchmark
  public int cachedHit() throws IOException {
    buffer.clear();
    return cached.read(nextOffset(), buffer);
  }

  @Benchmark
  public int floor() {
    long at = nextOffset();
    byte[] b = floor.get(keys[(int) (at / READ)]);
    buffer.clear().put(0, b, 0, READ);
    return b.length;
  }

  @Benchmark
  public int kernel() throws IOException {
    buffer.clear();
    return kernel.read(buffer, nextOffset());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    System.out.println("cache: " + cache.stats());
    cached.close();
    kernel.close();
    cache.close();
    session.close();
    server.close();
    try (Stream<Path> w = Files.walk(dir)) {
      w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
