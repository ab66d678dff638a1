package org.cachedafs.cache;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;

/**
 * A client process with its own session and cache, for the cross-process tests (coherence, and the
 * fault rig's partitions). Arguments: {@code URI [SECRET_FILE]}; the system property {@code
 * cacheclient.flushMillis} sets the background flush interval (default an hour, so written bytes stay
 * dirty until a sync, a close or a recall).
 *
 * <p>Commands on stdin: {@code open NAME}, {@code write NAME OFFSET TEXT}, {@code read NAME OFFSET LENGTH},
 * {@code fill NAME OFFSET LENGTH SEED} (writes a pattern), {@code check NAME OFFSET LENGTH SEED} (reads it
 * back), {@code sync NAME}, {@code close NAME}, {@code stats}, {@code losses}, {@code lease}, {@code quit}; one reply
 * line each, {@code ok ...} or {@code error STATUS MESSAGE}.
 */
public final class CacheClientMain {
  /** The byte {@code fill} writes at {@code position}. */
  static byte pattern(long position, int seed) {
    return (byte) (position * 31 + seed + (position >>> 16));
  }

  public static void main(String[] args) throws Exception {
    ClientOptions options = ClientOptions.defaults().withClientName("cache-proc-" + ProcessHandle.current().pid());
    if (args.length > 1) {
      options = options.withSecret(Files.readAllBytes(Path.of(args[1])));
    }
    Duration flush = Duration.ofMillis(Long.getLong("cacheclient.flushMillis", Duration.ofHours(1).toMillis()));
    try (DafsSession s = DafsClient.connect(URI.create(args[0]), options);
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withCapacity(16 << 20).withSlabBytes(8 << 20)
            .withFlushInterval(flush))) {
      Map<String, CachedFile> files = new HashMap<>();
      System.out.println("ready");
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.equals("quit")) {
        String[] w = line.split(" ", 5);
        try {
          String r = switch (w[0]) {
            case "open" -> {
              CachedFile f = cache.open(s.root(), w[1], OpenMode.readWrite().create(0644));
              files.put(w[1], f);
              yield "opened writeback=" + f.isWriteBack() + " cached=" + f.isCached();
            }
            case "write" -> {
              files.get(w[1]).write(Long.parseLong(w[2]), ByteBuffer.wrap(w[3].getBytes(StandardCharsets.UTF_8)));
              yield "written";
            }
            case "read" -> {
              ByteBuffer b = ByteBuffer.allocate(Integer.parseInt(w[3]));
              readFully(files.get(w[1]), Long.parseLong(w[2]), b);
              yield "data " + new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
            }
            case "fill" -> {
              CachedFile f = files.get(w[1]);
              long at = Long.parseLong(w[2]);
              long end = at + Long.parseLong(w[3]);
              int seed = Integer.parseInt(w[4]);
              ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
              while (at < end) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), end - at));
                for (int i = 0; i < chunk.limit(); i++) {
                  chunk.put(i, pattern(at + i, seed));
                }
                while (chunk.hasRemaining()) {
                  at += f.write(at, chunk);
                }
              }
              yield "filled";
            }
            case "check" -> {
              long at = Long.parseLong(w[2]);
              int seed = Integer.parseInt(w[4]);
              ByteBuffer b = ByteBuffer.allocate(Integer.parseInt(w[3]));
              readFully(files.get(w[1]), at, b);
              for (int i = 0; i < b.capacity(); i++) {
                if (i >= b.position() || b.get(i) != pattern(at + i, seed)) {
                  throw new IllegalStateException("not the pattern of seed " + seed + " at " + (at + i) + (i >= b.position() ? " (end of file)" : ""));
                }
              }
              yield "checked";
            }
            case "sync" -> {
              files.get(w[1]).sync();
              yield "synced";
            }
            case "stats" -> "stats dirty=" + cache.stats().dirtyBlocks() + " recalls=" + cache.stats().recalls() + " returns=" + cache.stats().returns();
            case "losses" -> "losses lost=" + cache.stats().lostBytes() + " revocations=" + cache.stats().revocations();
            case "lease" -> "lease held=" + s.leaseHeld();
            case "close" -> {
              files.remove(w[1]).close();
              yield "closed";
            }
            default -> throw new IllegalArgumentException("unknown command " + w[0]);
          };
          System.out.println("ok " + r);
        } catch (DafsException e) {
          System.out.println("error " + e.status() + " " + oneLine(e.getMessage()));
        } catch (IOException | RuntimeException e) {
          System.out.println("error " + e.getClass().getSimpleName() + " " + oneLine(e.getMessage()));
        }
        System.out.flush();
      }
    }
    System.exit(0);
  }

  private static void readFully(CachedFile f, long pos, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      int n = f.read(pos, b);
      if (n < 0) {
        break;
      }
      pos += n;
    }
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replace('\n', ' ');
  }
}
