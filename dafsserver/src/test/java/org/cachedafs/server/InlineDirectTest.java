package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.transport.DomainStats;
import org.cachedafs.transport.Region;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inline and direct transfers of 0 B to 64 MiB at unaligned offsets give byte-identical files and
 * reads, the same as a local file given the same writes; and a direct read lands straight in the
 * registered region's own memory.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InlineDirectTest {
  @TempDir static Path tmp;
  ServerFixture fixture;
  DafsSession s;
  ByteBuffer memory;
  Region region;

  @BeforeAll
  void start() throws Exception {
    fixture = new ServerFixture(tmp);
    s = fixture.connect();
    region = s.allocate((64 << 20) + 8192);
    memory = region.buffer();
  }

  @AfterAll
  void stop() {
    region.close();
    fixture.close();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 4096, 1 << 20, 64 << 20})
  void inlineAndDirectAgree(int size) throws Exception {
    Random random = new Random(size);
    byte[] data = new byte[size];
    random.nextBytes(data);
    long offset = 4093L * 3 + size % 7; // deliberately unaligned
    int regionOffset = 4099;

    // Write inline into one file and direct into another; both must equal a local file given the same write.
    OpenFile a = s.open(s.root(), "inline-" + size, OpenMode.readWrite().create(0644));
    OpenFile b = s.open(s.root(), "direct-" + size, OpenMode.readWrite().create(0644));
    assertEquals(size, s.write(a, offset, ByteBuffer.wrap(data)));
    memory.clear().position(regionOffset);
    memory.put(data);
    assertEquals(size, s.writeDirect(b, offset, region, regionOffset, size));
    Path local = tmp.resolve("local-" + size);
    try (FileChannel ch = FileChannel.open(local, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(data), offset);
    }
    byte[] expected = Files.readAllBytes(local);
    assertArrayEquals(expected, Files.readAllBytes(fixture.export.resolve("inline-" + size)));
    assertArrayEquals(expected, Files.readAllBytes(fixture.export.resolve("direct-" + size)));

    // Read each file back both ways.
    for (OpenFile f : new OpenFile[] {a, b}) {
      ByteBuffer inline = ByteBuffer.allocate(size);
      assertEquals(size, s.read(f, offset, inline));
      assertArrayEquals(data, inline.array());

      zero(regionOffset, size);
      DomainStats before = s.stats().domain();
      assertEquals(size, s.readDirect(f, offset, region, regionOffset, size));
      DomainStats after = s.stats().domain();
      // On tcp this side's receive thread places the bytes and counts them; on shm the server's copy
      // lands in this process's memory without this side running any code, so nothing counts it.
      assertEquals(s.transport().equals("tcp") ? size : 0, after.placedBytes() - before.placedBytes(),
          "every byte placed straight into the region");
      assertEquals(0, after.stagedBytes() - before.stagedBytes(), "no byte went through a staging buffer");
      byte[] got = new byte[size];
      memory.clear().position(regionOffset);
      memory.get(got);
      assertArrayEquals(data, got, "the registered region's own memory holds the data");
    }

    // Reads across EOF are short by the same amount both ways.
    int tail = 100;
    ByteBuffer inline = ByteBuffer.allocate(size + tail);
    assertEquals(size, s.read(a, offset, inline));
    assertEquals(size, s.readDirect(a, offset, region, regionOffset, size + tail));
    s.close(a);
    s.close(b);
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, 1})
  void directTransfersOutsideTheRegionAreRefusedLocally(int where) throws Exception {
    OpenFile f = s.open(s.root(), "bounds", OpenMode.readWrite().create(0644));
    int offset = where < 0 ? -1 : region.length() - 10;
    Exception e = assertThrows(IllegalArgumentException.class, () -> s.readDirect(f, 0, region, offset, 20));
    assertEquals(true, e.getMessage().contains("outside"));
    try (Region foreign = fixture.connect().allocate(64)) {
      assertThrows(IllegalArgumentException.class, () -> s.readDirect(f, 0, foreign, 0, 10), "another session's region");
    }
    s.close(f);
  }

  private void zero(int offset, int size) {
    ByteBuffer z = memory.duplicate().clear().position(offset).limit(offset + size);
    byte[] zeros = new byte[Math.min(size, 1 << 16)];
    while (z.hasRemaining()) {
      z.put(zeros, 0, Math.min(zeros.length, z.remaining()));
    }
    Arrays.fill(zeros, (byte) 0);
  }
}
