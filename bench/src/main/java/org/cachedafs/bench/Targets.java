package org.cachedafs.bench;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.cache.CacheStats;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.posix.DafsPosix;
import org.cachedafs.posix.PosixException;

/** Makes the targets of the configurations; each one owns what it connects. */
final class Targets {
  private static final String MOUNT = "/dafs";

  private Targets() {}

  /** {@code FileChannel} on the export directory itself, through the kernel's page cache. */
  static Target local(Path exportDir) {
    return new ChannelTarget("local", exportDir, null);
  }

  /** The java.nio provider, through the cache or, with {@code uncached}, around it. */
  static Target nio(URI server, byte[] secret, CacheConfig config, boolean uncached) throws IOException {
    Map<String, Object> env = new HashMap<>();
    env.put("transport", "tcp");
    if (secret != null) {
      env.put("secret", secret);
    }
    env.put("client.name", "bench-nio");
    env.put("cache.size", config.capacityBytes());
    env.put("block.size", config.blockSize());
    env.put("uncached", uncached);
    FileSystem fs = FileSystems.newFileSystem(URI.create("dafs://" + server.getAuthority() + "/"), env);
    return new ChannelTarget(uncached ? "nio-uncached" : "nio", fs.getPath("/"), fs);
  }

  static DafsSession connect(URI server, byte[] secret, String clientName, String transport) throws IOException {
    return connect(server, secret, clientName, transport, false);
  }

  static DafsSession connect(URI server, byte[] secret, String clientName, String transport, boolean optimistic) throws IOException {
    ClientOptions options = ClientOptions.defaults().withClientName(clientName).withTransport(transport).withOptimisticReads(optimistic);
    if (secret != null) {
      options = options.withSecret(secret);
    }
    return DafsClient.connect(server, options);
  }

  /** The POSIX facade over its own session and cache, through the cache or around it ({@code O_DIRECT}). */
  static Target facade(URI server, byte[] secret, CacheConfig config, boolean uncached, String transport) throws IOException {
    return facade(server, secret, config, uncached, transport, false);
  }

  /** As above; with {@code optimistic}, the session reads the server's exported cache first (ODAFS). */
  static Target facade(URI server, byte[] secret, CacheConfig config, boolean uncached, String transport, boolean optimistic)
      throws IOException {
    DafsSession session = connect(server, secret,
        (optimistic ? "bench-odafs-" : uncached ? "bench-uncached-" : "bench-cached-") + transport, transport, optimistic);
    CacheManager cache = null;
    try {
      cache = CacheManager.create(session, config);
      DafsPosix posix = new DafsPosix();
      posix.mount(MOUNT, cache);
      return new FacadeTarget(posix, cache, session, uncached, optimistic);
    } catch (RuntimeException e) {
      if (cache != null) {
        cache.close();
      }
      session.close();
      throw e;
    }
  }

  /**
   * The {@link CacheStats} components that are levels (ints and booleans), not running totals (the
   * longs): a measurement reports their value at its end rather than their change.
   */
  static final Set<String> GAUGES = java.util.Arrays.stream(CacheStats.class.getRecordComponents())
      .filter(c -> c.getType() != long.class).map(RecordComponent::getName).collect(java.util.stream.Collectors.toUnmodifiableSet());

  /** A cache's counters by name, for the JSON. */
  static Map<String, Long> counters(CacheStats s) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (RecordComponent c : CacheStats.class.getRecordComponents()) {
      try {
        Object v = c.getAccessor().invoke(s);
        if (v instanceof Number n) {
          m.put(c.getName(), n.longValue());
        } else if (v instanceof Boolean b) {
          m.put(c.getName(), b ? 1L : 0L);
        }
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
    return m;
  }

  /** The facade's failure with its errno by name, as a C program's perror would say it. */
  static IOException failure(DafsPosix posix, String what, String file) {
    return new PosixException(what, file, posix.errno());
  }

  /** The facade: int descriptors and errno, as legacy code sees it. */
  private static final class FacadeTarget implements Target {
    private final DafsPosix posix;
    private final CacheManager cache;
    private final DafsSession session;
    private final boolean uncached;
    private final boolean optimistic;

    FacadeTarget(DafsPosix posix, CacheManager cache, DafsSession session, boolean uncached, boolean optimistic) {
      this.posix = posix;
      this.cache = cache;
      this.session = session;
      this.uncached = uncached;
      this.optimistic = optimistic;
    }

    /** The configuration's label, from where the session really runs: {@code -shm} once it moved. */
    @Override
    public String name() {
      return (optimistic ? "odafs" : uncached ? "uncached" : "cached") + (session.transport().equals("shm") ? "-shm" : "");
    }

    DafsPosix posix() {
      return posix;
    }

    @Override
    public Map<String, Long> cacheCounters() {
      return uncached ? Map.of() : counters(cache.stats());
    }

    @Override
    public Handle open(String file, boolean write) throws IOException {
      int flags = (write ? DafsPosix.O_RDWR | DafsPosix.O_CREAT : DafsPosix.O_RDONLY) | (uncached ? DafsPosix.O_DIRECT : 0);
      int fd = posix.open(MOUNT + "/" + file, flags, 0644);
      if (fd < 0) {
        throw failure(posix, "open", file);
      }
      return new Handle() {
        @Override
        public int pread(ByteBuffer dst, long position) throws IOException {
          long n = posix.pread(fd, dst.array(), dst.arrayOffset() + dst.position(), dst.remaining(), position);
          if (n < 0) {
            throw failure(posix, "pread", file);
          }
          dst.position(dst.position() + (int) n);
          return n == 0 ? -1 : (int) n;
        }

        @Override
        public int pwrite(ByteBuffer src, long position) throws IOException {
          long n = posix.pwrite(fd, src.array(), src.arrayOffset() + src.position(), src.remaining(), position);
          if (n < 0) {
            throw failure(posix, "pwrite", file);
          }
          src.position(src.position() + (int) n);
          return (int) n;
        }

        @Override
        public void sync() throws IOException {
          if (posix.fsync(fd) < 0) {
            throw failure(posix, "fsync", file);
          }
        }

        @Override
        public void close() throws IOException {
          if (posix.close(fd) < 0) {
            throw failure(posix, "close", file);
          }
        }
      };
    }

    @Override
    public void close() throws IOException {
      // Each closes even if the one before failed: the cache flushes before the session goes.
      try (session; cache) {
        posix.close();
      }
    }
  }

  /** A {@code FileChannel} per open file, from the default file system or the DAFS provider. */
  private record ChannelTarget(String name, Path root, FileSystem owned) implements Target {
    @Override
    public Handle open(String file, boolean write) throws IOException {
      Set<StandardOpenOption> opts = write
          ? Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE)
          : Set.of(StandardOpenOption.READ);
      FileChannel ch = FileChannel.open(root.resolve(file), opts);
      return new Handle() {
        @Override
        public int pread(ByteBuffer dst, long position) throws IOException {
          return ch.read(dst, position);
        }

        @Override
        public int pwrite(ByteBuffer src, long position) throws IOException {
          return ch.write(src, position);
        }

        @Override
        public void sync() throws IOException {
          ch.force(false);
        }

        @Override
        public void close() throws IOException {
          ch.close();
        }
      };
    }

    @Override
    public void close() throws IOException {
      if (owned != null) {
        owned.close();
      }
    }
  }

  static byte[] secretOf(String text) {
    return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
  }
}
