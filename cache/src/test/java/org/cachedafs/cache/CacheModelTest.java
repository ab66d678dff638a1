package org.cachedafs.cache;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;

/**
 * Model-based test: random sequences of open, read, write, truncate, fsync and close on one to three
 * clients, each with its own session and cache, interleaved, over two files, with offsets and lengths
 * that cross block boundaries. Every read must equal what a plain in-memory model of the files says,
 * and at the end the files on the server's disk must too. QuickTheories shrinks a failing sequence to
 * a short one and prints it with its seed.
 *
 * <p>40 sequences by default; {@code -Psoak} runs 400 ({@code -Dcachedafs.model.examples=N} any number).
 */
class CacheModelTest {
  static final int BLOCK = 4096;
  static final int SPAN = 6 * BLOCK;

  enum Kind { OPEN, OPEN_UNCACHED, READ, WRITE, TRUNCATE, FSYNC, CLOSE }

  record Op(Kind kind, int client, int file, int offset, int length) {
    @Override
    public String toString() {
      return kind + "(c" + client + ", f" + file + ", " + offset + ", " + length + ")";
    }
  }

  record Scenario(int clients, List<Op> ops) {}

  @TempDir static Path tmp;
  static DafsServer server;
  static final AtomicInteger runs = new AtomicInteger();

  @BeforeAll
  static void start() throws IOException {
    server = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("export"))).withLease(Duration.ofSeconds(10)));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Gen<Op> ops() {
    Gen<Kind> kinds = integers().between(0, 99).map(i -> i < 6 ? Kind.OPEN : i < 9 ? Kind.OPEN_UNCACHED : i < 45 ? Kind.READ
        : i < 80 ? Kind.WRITE : i < 87 ? Kind.TRUNCATE : i < 93 ? Kind.FSYNC : Kind.CLOSE);
    return kinds.zip(integers().between(0, 2), integers().between(0, 1), integers().between(0, SPAN), integers().between(0, 2 * BLOCK + 100),
        Op::new);
  }

  @Test
  void cachedClientsAgreeWithAnInMemoryModel() {
    int examples = Integer.getInteger("cachedafs.model.examples", Boolean.getBoolean("cachedafs.soak") ? 400 : 40);
    qt().withExamples(examples).withShrinkCycles(200)
        .forAll(integers().between(1, 3), lists().of(ops()).ofSizeBetween(1, 40))
        .asWithPrecursor((clients, ops) -> new Scenario(clients, ops))
        .checkAssert((clients, ops, scenario) -> run(scenario));
  }

  /** One sequence against fresh clients in a fresh directory of the export. */
  static void run(Scenario sc) {
    String dir = "run-" + runs.incrementAndGet();
    List<DafsSession> sessions = new ArrayList<>();
    List<CacheManager> caches = new ArrayList<>();
    try {
      Files.createDirectories(tmp.resolve("export").resolve(dir));
      for (int i = 0; i < sc.clients(); i++) {
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults().withClientName("model-" + i));
        sessions.add(s);
        caches.add(CacheManager.create(s, CacheConfig.defaults().withBlockSize(BLOCK).withCapacity(24 * BLOCK).withSlabBytes(8 * BLOCK)
            .withDirtyFraction(0.3).withFlushInterval(Duration.ofMillis(50))));
      }
      FileHandle[] dirs = new FileHandle[sc.clients()];
      for (int i = 0; i < sc.clients(); i++) {
        dirs[i] = sessions.get(i).lookup(sessions.get(i).root(), dir).handle();
      }
      byte[][] model = {new byte[0], new byte[0]};
      Map<String, CachedFile> open = new HashMap<>();
      int step = 0;
      for (Op op : sc.ops()) {
        int c = op.client() % sc.clients();
        String key = c + "/" + op.file();
        String name = "f" + op.file();
        step++;
        switch (op.kind()) {
          case OPEN, OPEN_UNCACHED -> {
            CachedFile old = open.remove(key);
            if (old != null) {
              old.close();
            }
            open.put(key, caches.get(c).open(dirs[c], name, OpenMode.readWrite().create(0644), op.kind() == Kind.OPEN_UNCACHED));
          }
          case CLOSE -> {
            CachedFile f = open.remove(key);
            if (f != null) {
              f.close();
            }
          }
          default -> {
            CachedFile f = open.computeIfAbsent(key, k -> openQuietly(caches.get(c), dirs[c], name));
            byte[] m = model[op.file()];
            switch (op.kind()) {
              case READ -> {
                ByteBuffer dst = ByteBuffer.allocate(op.length());
                long pos = op.offset();
                while (dst.hasRemaining()) {
                  int n = f.read(pos, dst);
                  if (n < 0) {
                    break;
                  }
                  pos += n;
                }
                int expectLen = (int) Math.max(0, Math.min(op.length(), m.length - (long) op.offset()));
                byte[] expect = expectLen == 0 ? new byte[0] : Arrays.copyOfRange(m, op.offset(), op.offset() + expectLen);
                byte[] got = Arrays.copyOf(dst.array(), dst.position());
                if (!Arrays.equals(expect, got)) {
                  throw new AssertionError("step " + step + " " + op + ": read " + got.length + " bytes differing from the model's "
                      + expect.length + " at index " + Arrays.mismatch(expect, got));
                }
              }
              case WRITE -> {
                byte[] data = new byte[op.length()];
                for (int i = 0; i < data.length; i++) {
                  data[i] = (byte) (step * 31 + i * 7 + 1);
                }
                f.write(op.offset(), ByteBuffer.wrap(data));
                int end = op.offset() + data.length;
                if (data.length > 0) {
                  if (end > m.length) {
                    m = Arrays.copyOf(m, end);
                  }
                  System.arraycopy(data, 0, m, op.offset(), data.length);
                }
              }
              case TRUNCATE -> {
                f.truncate(op.offset());
                m = Arrays.copyOf(m, op.offset());
              }
              case FSYNC -> f.sync();
              default -> throw new IllegalStateException();
            }
            model[op.file()] = m;
          }
        }
      }
      for (CachedFile f : open.values()) {
        f.close();
      }
      for (CacheManager cm : caches) {
        cm.close();
      }
      for (int i = 0; i < 2; i++) {
        Path p = tmp.resolve("export").resolve(dir).resolve("f" + i);
        byte[] onDisk = Files.exists(p) ? Files.readAllBytes(p) : new byte[0];
        if (!Arrays.equals(model[i], onDisk)) {
          throw new AssertionError("f" + i + " on the server's disk (" + onDisk.length + " bytes) differs from the model ("
              + model[i].length + " bytes) at index " + Arrays.mismatch(model[i], onDisk));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (CacheManager cm : caches) {
        cm.close();
      }
      for (DafsSession s : sessions) {
        s.close();
      }
    }
  }

  private static CachedFile openQuietly(CacheManager cm, FileHandle dir, String name) {
    try {
      return cm.open(dir, name, OpenMode.readWrite().create(0644));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
