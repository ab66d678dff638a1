package org.cachedafs.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In the style of fsx: long random sequences of writes, reads, truncations, fsyncs and reopens of one
 * file, by three clients with their own sessions and caches (the POSIX facade and the NIO provider in
 * this JVM, the facade in a separate JVM), against a local twin written through the facade's
 * pass-through path. After every step one client reads the whole file back: its size and bytes must
 * be the twin's. The seed is printed; {@code -Dcachedafs.fsx.seed=S} replays a run,
 * {@code -Dcachedafs.fsx.steps=N} (or {@code -Psoak}) runs longer.
 */
class FsxTest {
  static final int MAX_SIZE = 96 * 1024;
  @TempDir Path tmp;

  /** The bytes a write puts down: a function of its seed, so every client can make them. */
  static byte[] data(int length, long seed) {
    byte[] b = new byte[length];
    long x = seed * 0x9E3779B97F4A7C15L + 1;
    for (int i = 0; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      b[i] = (byte) x;
    }
    return b;
  }

  static String crc(byte[] b, int n) {
    CRC32 c = new CRC32();
    c.update(b, 0, n);
    return Long.toString(c.getValue());
  }

  @Test
  void threeClientsAgreeWithALocalTwinAfterEveryStep() throws Exception {
    long seed = Long.getLong("cachedafs.fsx.seed", System.nanoTime());
    int steps = Integer.getInteger("cachedafs.fsx.steps", Boolean.getBoolean("cachedafs.soak") ? 5000 : 400);
    System.out.println("FsxTest: " + steps + " steps, seed " + seed + " (replay with -Dcachedafs.fsx.seed=" + seed + ")");
    Random rnd = new Random(seed);
    Path export = Files.createDirectories(tmp.resolve("export"));
    String twinPath = tmp.resolve("twin.dat").toString();
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession sa = DafsClient.connect(server.uri(), ClientOptions.defaults().withClientName("fsx-facade"));
        CacheManager ca = CacheManager.create(sa, CacheConfig.defaults().withBlockSize(4096).withCapacity(64 * 4096).withSlabBytes(64 * 4096));
        DafsPosix posix = new DafsPosix();
        FileSystem nio = FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + server.address().getPort() + "/"),
            Map.of("cache.size", "256k", "block.size", "4k", "client.name", "fsx-nio"))) {
      posix.mount("/fsx", ca);
      int twin = posix.open(twinPath, DafsPosix.O_RDWR | DafsPosix.O_CREAT | DafsPosix.O_TRUNC, 0644);
      int fa = posix.open("/fsx/fsx.dat", DafsPosix.O_RDWR | DafsPosix.O_CREAT, 0644);
      FileChannel fb = FileChannel.open(nio.getPath("/fsx.dat"), StandardOpenOption.READ, StandardOpenOption.WRITE);
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Dcachedafs.transport=" + System.getProperty("cachedafs.transport", "auto"), "-cp",
          System.getProperty("java.class.path"), FsxClientMain.class.getName(), server.uri().toString(), "fsx.dat")
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try (BufferedReader cout = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
          BufferedWriter cin = new BufferedWriter(new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8))) {
        assertEquals("ready", cout.readLine());
        for (int step = 1; step <= steps; step++) {
          long size = posix.fstat(twin).size();
          int client = rnd.nextInt(3);
          int kind = rnd.nextInt(100);
          String what;
          if (kind < 55) {
            long off = rnd.nextInt(MAX_SIZE);
            int len = 1 + rnd.nextInt((int) Math.min(12_000, MAX_SIZE - off));
            long dseed = rnd.nextLong();
            byte[] d = data(len, dseed);
            what = "write " + off + " " + len;
            assertEquals(len, posix.pwrite(twin, d, 0, len, off));
            switch (client) {
              case 0 -> assertEquals(len, posix.pwrite(fa, d, 0, len, off), what + ": errno " + posix.errno());
              case 1 -> assertEquals(len, fb.write(ByteBuffer.wrap(d), off));
              default -> assertEquals("ok " + len, call(cin, cout, "write " + off + " " + len + " " + dseed));
            }
          } else if (kind < 75) {
            long off = rnd.nextInt((int) size + 1);
            int len = rnd.nextInt(9000);
            what = "read " + off + " " + len;
            byte[] want = new byte[len];
            long wn = posix.pread(twin, want, 0, len, off);
            byte[] got = new byte[len];
            long gn = client == 1 ? Math.max(0, fill(fb, ByteBuffer.wrap(got), off)) : posix.pread(fa, got, 0, len, off);
            assertEquals(wn, gn, step + " " + what);
            assertEquals(crc(want, (int) wn), crc(got, (int) gn), step + " " + what);
          } else if (kind < 87) {
            long to = rnd.nextInt(MAX_SIZE);
            what = "truncate " + to;
            assertEquals(0, posix.ftruncate(twin, to));
            switch (client) {
              case 0 -> assertEquals(0, posix.ftruncate(fa, to));
              case 1 -> {
                if (to < fb.size()) {
                  fb.truncate(to);
                } else {
                  fb.write(ByteBuffer.wrap(new byte[1]), to - 1); // NIO truncate never extends: write the last byte
                  fb.truncate(to);
                }
              }
              default -> assertEquals("ok 0", call(cin, cout, "truncate " + to));
            }
          } else if (kind < 94) {
            what = "fsync";
            switch (client) {
              case 0 -> assertEquals(0, posix.fsync(fa));
              case 1 -> fb.force(true);
              default -> assertTrue(call(cin, cout, "fsync").startsWith("ok"));
            }
          } else {
            what = "reopen";
            switch (client) {
              case 0 -> {
                posix.close(fa);
                fa = posix.open("/fsx/fsx.dat", DafsPosix.O_RDWR);
              }
              case 1 -> {
                fb.close();
                fb = FileChannel.open(nio.getPath("/fsx.dat"), StandardOpenOption.READ, StandardOpenOption.WRITE);
              }
              default -> assertTrue(call(cin, cout, "reopen").startsWith("ok"));
            }
          }
          // After every step, one client reads back the whole file.
          long twinSize = posix.fstat(twin).size();
          byte[] whole = new byte[(int) twinSize];
          posix.pread(twin, whole, 0, whole.length, 0);
          String expect = twinSize + " " + twinSize + " " + crc(whole, whole.length);
          String actual = switch (rnd.nextInt(3)) {
            case 0 -> {
              long s = posix.fstat(fa).size();
              byte[] b = new byte[(int) s];
              long n = posix.pread(fa, b, 0, b.length, 0);
              yield s + " " + n + " " + crc(b, (int) Math.max(0, n));
            }
            case 1 -> {
              long s = fb.size();
              ByteBuffer b = ByteBuffer.allocate((int) s);
              int n = Math.max(0, fill(fb, b, 0));
              yield s + " " + n + " " + crc(b.array(), n);
            }
            default -> call(cin, cout, "check").substring(3);
          };
          assertEquals(expect, actual, "after step " + step + " (" + what + " by client " + client + "), seed " + seed);
        }
        cin.write("quit\n");
        cin.flush();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      } finally {
        child.destroyForcibly();
      }
      fb.close();
      posix.close(fa);
      posix.close(twin);
    }
  }

  static String call(BufferedWriter in, BufferedReader out, String command) throws Exception {
    in.write(command);
    in.newLine();
    in.flush();
    return out.readLine();
  }

  static int fill(FileChannel ch, ByteBuffer b, long at) throws java.io.IOException {
    int total = 0;
    while (b.hasRemaining()) {
      int n = ch.read(b, at + total);
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }
}
