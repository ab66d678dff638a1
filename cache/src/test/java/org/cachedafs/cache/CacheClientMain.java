package org.cachedafs.cache;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;

/**
 * A client process with its own session and cache, for the cross-process coherence test. Commands on
 * stdin: {@code open NAME}, {@code write NAME OFFSET TEXT}, {@code read NAME OFFSET LENGTH},
 * {@code stats}, {@code close NAME}, {@code quit}; one reply line each.
 */
public final class CacheClientMain {
  public static void main(String[] args) throws Exception {
    try (DafsSession s = DafsClient.connect(URI.create(args[0]), ClientOptions.defaults().withClientName("cache-proc-" + ProcessHandle.current().pid()));
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withCapacity(16 << 20).withSlabBytes(8 << 20)
            .withFlushInterval(Duration.ofHours(1)))) {
      Map<String, CachedFile> files = new HashMap<>();
      System.out.println("ready");
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.equals("quit")) {
        String[] w = line.split(" ", 4);
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
              CachedFile f = files.get(w[1]);
              long pos = Long.parseLong(w[2]);
              while (b.hasRemaining()) {
                int n = f.read(pos, b);
                if (n < 0) {
                  break;
                }
                pos += n;
              }
              yield "data " + new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
            }
            case "stats" -> "stats dirty=" + cache.stats().dirtyBlocks() + " recalls=" + cache.stats().recalls() + " returns=" + cache.stats().returns()
                + " lost=" + cache.stats().lostBytes() + " restarts=" + s.stats().serverRestarts();
            case "close" -> {
              files.remove(w[1]).close();
              yield "closed";
            }
            default -> throw new IllegalArgumentException("unknown command " + w[0]);
          };
          System.out.println("ok " + r);
        } catch (DafsException e) {
          System.out.println("error " + e.status() + " " + e.getMessage());
        }
        System.out.flush();
      }
    }
    System.exit(0);
  }
}
