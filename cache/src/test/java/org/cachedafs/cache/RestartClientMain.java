package org.cachedafs.cache;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.LockRange;

/**
 * An application for {@code RestartProcessIT}: random reads and writes through the cache on a file of
 * its own, with fsyncs now and then, checking every read against a model of every write that
 * succeeded, while the server is killed and restarted under it; and reads of a file shared with the
 * other client, under a shared lock. Arguments: the server's URI, the client's name, its file, the
 * shared file, a seed, and optionally a file holding the secret. Commands on stdin: {@code stats}, {@code locktest} (whether another session
 * holds a lock that conflicts with an exclusive one on the shared file), {@code stop} (ends the
 * workload, writes everything back, closes, and answers the model's SHA-256), {@code quit}.
 */
public final class RestartClientMain {
  static final int FILE_BYTES = 1 << 20;
  static final int SHARED_BYTES = 64 << 10;

  /** The shared file's bytes: the same in the test and in each client. */
  static byte[] sharedContent() {
    byte[] b = new byte[SHARED_BYTES];
    new SplittableRandom(42).nextBytes(b);
    return b;
  }

  public static void main(String[] args) throws Exception {
    URI uri = URI.create(args[0]);
    String name = args[1];
    ClientOptions options = ClientOptions.defaults().withClientName(name).withReconnectTimeout(Duration.ofSeconds(60))
        .withRequestTimeout(Duration.ofSeconds(60));
    if (args.length > 5) {
      options = options.withSecret(java.nio.file.Files.readAllBytes(java.nio.file.Path.of(args[5])));
    }
    byte[] shared = sharedContent();
    byte[] model = new byte[FILE_BYTES];
    try (DafsSession s = DafsClient.connect(uri, options);
        // No background flush: most writes are still only in the cache when the server is killed.
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withCapacity(8 << 20).withSlabBytes(4 << 20)
            .withFlushInterval(Duration.ofHours(1)))) {
      CachedFile mine = cache.open(s.root(), args[2], OpenMode.readWrite());
      CachedFile common = cache.open(s.root(), args[3], OpenMode.read());
      if (!common.tryLock(new LockRange(0, 16, false))) {
        throw new IllegalStateException("the shared lock was refused");
      }
      AtomicLong ops = new AtomicLong();
      AtomicLong maxNanos = new AtomicLong();
      AtomicLong slow = new AtomicLong();
      AtomicReference<String> error = new AtomicReference<>();
      // Not an interrupt: that would fail the call in flight, which is no error of the system's.
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      SplittableRandom random = new SplittableRandom(Long.parseLong(args[4]));
      Thread workload = new Thread(() -> {
        ByteBuffer buf = ByteBuffer.allocate(16 << 10);
        try {
          while (!stop.get()) {
            long t0 = System.nanoTime();
            int kind = random.nextInt(100);
            if (kind < 55) {
              int len = 1 + random.nextInt(8192);
              int at = random.nextInt(FILE_BYTES - len);
              byte[] data = new byte[len];
              random.nextBytes(data);
              int n = mine.write(at, ByteBuffer.wrap(data));
              if (n != len) {
                throw new IllegalStateException("short write " + n + " of " + len);
              }
              System.arraycopy(data, 0, model, at, len); // the write succeeded: it must be on the disk at the end
            } else if (kind < 85) {
              int len = 1 + random.nextInt(buf.capacity());
              int at = random.nextInt(FILE_BYTES - len);
              check(mine, at, len, buf, model, "own file");
            } else if (kind < 97) {
              int len = 1 + random.nextInt(4096);
              check(common, random.nextInt(SHARED_BYTES - len), len, buf, shared, "shared file");
            } else {
              mine.sync();
            }
            long took = System.nanoTime() - t0;
            maxNanos.accumulateAndGet(took, Math::max);
            if (took > 200_000_000L) {
              slow.incrementAndGet();
            }
            ops.incrementAndGet();
          }
        } catch (Throwable t) {
          error.compareAndSet(null, t.toString().replace('\n', ' '));
          System.out.println("event error " + t.toString().replace('\n', ' '));
          System.out.flush();
        }
      }, "workload");
      workload.start();
      System.out.println("ready");
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.equals("quit")) {
        String r = switch (line) {
          case "stats" -> "ok ops=" + ops.get() + " errors=" + (error.get() == null ? 0 : 1) + " maxms=" + maxNanos.get() / 1_000_000
              + " slow=" + slow.get() + " restarts=" + s.stats().serverRestarts() + " reclaimms=" + s.stats().lastReclaimNanos() / 1_000_000
              + " dirty=" + cache.stats().dirtyBlocks() + " lost=" + cache.stats().lostBytes();
          case "locktest" -> "ok conflict=" + s.testLock(common.handle(), new LockRange(0, 16, true)).isPresent();
          case "stop" -> {
            stop.set(true);
            workload.join();
            mine.sync();
            mine.close();
            common.close();
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(model);
            yield "ok stopped ops=" + ops.get() + " error=" + (error.get() == null ? "none" : error.get().replace(' ', '_'))
                + " sha=" + HexFormat.of().formatHex(sha) + " lost=" + cache.stats().lostBytes();
          }
          default -> "error unknown command " + line;
        };
        System.out.println(r);
        System.out.flush();
      }
    }
    System.exit(0);
  }

  /** Reads {@code len} bytes at {@code at} and compares them with {@code expected}'s. */
  private static void check(CachedFile f, int at, int len, ByteBuffer buf, byte[] expected, String what) throws Exception {
    buf.clear().limit(len);
    long pos = at;
    while (buf.hasRemaining()) {
      int n = f.read(pos, buf);
      if (n < 0) {
        throw new IllegalStateException(what + ": end of file at " + pos);
      }
      pos += n;
    }
    if (!Arrays.equals(buf.array(), 0, len, expected, at, at + len)) {
      throw new IllegalStateException(what + ": read at " + at + "+" + len + " differs from what was written");
    }
  }
}
