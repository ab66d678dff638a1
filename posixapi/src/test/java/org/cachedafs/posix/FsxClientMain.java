package org.cachedafs.posix;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;

/**
 * The exerciser's client in another JVM: its own session, cache and facade, driven line by line.
 * Commands: {@code write OFFSET LENGTH SEED}, {@code truncate SIZE}, {@code fsync}, {@code reopen},
 * {@code check} (size and CRC of the whole file), {@code quit}. Data is made from the seed, so no bytes
 * need to cross the pipe.
 */
public final class FsxClientMain {
  public static void main(String[] args) throws Exception {
    try (DafsSession s = DafsClient.connect(URI.create(args[0]), ClientOptions.defaults().withClientName("fsx-child"));
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withBlockSize(4096).withCapacity(64 * 4096).withSlabBytes(64 * 4096));
        DafsPosix posix = new DafsPosix()) {
      posix.mount("/fsx", cache);
      String path = "/fsx/" + args[1];
      int fd = posix.open(path, DafsPosix.O_RDWR | DafsPosix.O_CREAT, 0644);
      System.out.println("ready");
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.equals("quit")) {
        String[] w = line.split(" ");
        if (w[0].equals("check")) {
          Stat st = posix.fstat(fd);
          byte[] all = new byte[(int) st.size()];
          long n = posix.pread(fd, all, 0, all.length, 0);
          CRC32 crc = new CRC32();
          crc.update(all, 0, (int) Math.max(0, n));
          System.out.println("ok " + st.size() + " " + n + " " + crc.getValue());
          System.out.flush();
          continue;
        }
        long r = switch (w[0]) {
          case "write" -> posix.pwrite(fd, FsxTest.data(Integer.parseInt(w[2]), Long.parseLong(w[3])), 0, Integer.parseInt(w[2]), Long.parseLong(w[1]));
          case "truncate" -> posix.ftruncate(fd, Long.parseLong(w[1]));
          case "fsync" -> posix.fsync(fd);
          case "reopen" -> {
            posix.close(fd);
            fd = posix.open(path, DafsPosix.O_RDWR);
            yield fd;
          }
          default -> -1;
        };
        System.out.println(r < 0 ? "error " + posix.errno() : "ok " + r);
        System.out.flush();
      }
      posix.close(fd);
    }
    System.exit(0);
  }
}
