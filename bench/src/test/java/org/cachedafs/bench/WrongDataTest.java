package org.cachedafs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.cachedafs.cache.CacheConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A benchmark that reads wrong bytes fails: every standard workload, through every in-process
 * configuration over a real server, on a file with one wrong word where it reads first; and a write
 * that never lands fails the write workloads' check.
 */
class WrongDataTest {
  @TempDir
  static Path tmp;
  static Fixture fixture;
  static final Settings SETTINGS = BenchMain.defaults();
  static final CacheConfig CACHE = CacheConfig.defaults().withCapacity(16 << 20).withSlabBytes(16 << 20);

  @BeforeAll
  static void start() throws IOException {
    fixture = Fixture.embedded(tmp);
  }

  @AfterAll
  static void stop() throws IOException {
    fixture.close();
  }

  /** The standard workloads, shrunk: 4 MiB files, 0.2 s. */
  static List<Workload> workloads() {
    return Runner.standard(SETTINGS).stream().map(w -> new Workload(w.name(), w.op(), w.access(), w.zipfSkew(), w.ioSize(),
        w.file(), 4L << 20, w.readFraction(), w.warm(), 0.2, w.onePass())).toList();
  }

  /** Overwrites one 8-byte word of {@code file}, on the server's disk, in the chunk the workload reads first. */
  static void plantWrongWord(Workload w, String file) throws IOException {
    long chunk = new AccessPattern(w, SETTINGS.seed()).nextChunk();
    long at = chunk * w.ioSize() + (w.ioSize() / 2 & ~7);
    try (FileChannel ch = FileChannel.open(fixture.onDisk(file), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8).putLong(0, 0x0BADBADBADBADL), at);
    }
  }

  @Test
  void everyWorkloadThroughEveryConfigurationFailsOnOneWrongWord() throws IOException {
    for (Workload w : workloads()) {
      if (w.op() == Workload.Op.WRITE) {
        continue; // it reads only to check what it wrote, and it overwrites the wrong word: see the lost-write test
      }
      for (Config c : List.of(Config.LOCAL, Config.UNCACHED, Config.CACHED, Config.NIO)) {
        String file = "wrong/" + w.name() + "-" + c.label() + ".bin";
        fixture.create(file, w.file(), w.fileBytes());
        plantWrongWord(w, file);
        try (Target t = fixture.target(c, CACHE)) {
          CellRunner.WrongDataException e = assertThrows(CellRunner.WrongDataException.class,
              () -> CellRunner.run(t, w, file, fixture.onDisk(file), SETTINGS.seed(), 1), w.name() + " through " + c.label());
          assertTrue(e.getMessage().contains("wrong bytes"), e.getMessage());
        }
      }
    }
  }

  @Test
  void theSameWorkloadsOnGoodFilesPass() throws IOException {
    for (Workload w : workloads()) {
      String file = "good/" + w.name() + ".bin";
      fixture.create(file, w.file(), w.fileBytes());
      try (Target t = fixture.target(Config.CACHED, CACHE)) {
        Result r = CellRunner.run(t, w, file, fixture.onDisk(file), SETTINGS.seed(), 1);
        assertTrue(r.ops() > 0 && r.verified(), r.toString());
      }
    }
  }

  @Test
  void writesThatNeverLandFailTheWriteWorkloads() throws IOException {
    for (Workload w : workloads()) {
      if (!w.writes()) {
        continue;
      }
      String file = "lost/" + w.name() + ".bin";
      fixture.create(file, w.file(), w.fileBytes());
      try (Target t = new LosingWrites(fixture.target(Config.UNCACHED, CACHE))) {
        CellRunner.WrongDataException e = assertThrows(CellRunner.WrongDataException.class,
            () -> CellRunner.run(t, w, file, fixture.onDisk(file), SETTINGS.seed(), 1), w.name());
        assertTrue(e.getMessage().contains("generation"), e.getMessage());
      }
    }
  }

  @Test
  void aShortReadFails() throws IOException {
    Workload w = workloads().get(0);
    String file = "short/seq.bin";
    fixture.create(file, w.file(), w.fileBytes() - w.ioSize() / 2); // a file half a chunk short of what the workload expects
    try (Target t = fixture.target(Config.CACHED, CACHE)) {
      CellRunner.WrongDataException e = assertThrows(CellRunner.WrongDataException.class,
          () -> CellRunner.run(t, w, file, fixture.onDisk(file), SETTINGS.seed(), 1));
      assertTrue(e.getMessage().contains("expected " + w.ioSize()), e.getMessage());
    }
  }

  @Test
  void thePatternTellsOffsetsAndGenerationsApart() {
    DataPattern p = CellRunner.patternOf("x");
    ByteBuffer b = ByteBuffer.allocate(4096);
    p.fill(b, 8192, 3);
    assertTrue(p.matches(b, 0, 4096, 8192, 3));
    assertTrue(!p.matches(b, 0, 4096, 4096, 3), "another offset");
    assertTrue(!p.matches(b, 0, 4096, 8192, 2), "another generation");
    assertTrue(!CellRunner.patternOf("y").matches(b, 0, 4096, 8192, 3), "another file");
    assertEquals(8192 + 8, p.firstMismatch(b.putLong(8, 0), 0, 4096, 8192, 3));
  }

  /**
   * A real target that acknowledges every write to the offset it was first asked to write, and never
   * sends them: lost writes, as a broken client would lose them.
   */
  private static final class LosingWrites implements Target {
    private final Target inner;
    private long lost = -1;

    LosingWrites(Target inner) {
      this.inner = inner;
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public Map<String, Long> cacheCounters() {
      return inner.cacheCounters();
    }

    @Override
    public Handle open(String file, boolean write) throws IOException {
      Handle h = inner.open(file, write);
      return new Handle() {
        @Override
        public int pread(ByteBuffer dst, long position) throws IOException {
          return h.pread(dst, position);
        }

        @Override
        public int pwrite(ByteBuffer src, long position) throws IOException {
          if (lost < 0) {
            lost = position;
          }
          if (position == lost) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
          }
          return h.pwrite(src, position);
        }

        @Override
        public void sync() throws IOException {
          h.sync();
        }

        @Override
        public void close() throws IOException {
          h.close();
        }
      };
    }

    @Override
    public void close() throws IOException {
      inner.close();
    }
  }
}
