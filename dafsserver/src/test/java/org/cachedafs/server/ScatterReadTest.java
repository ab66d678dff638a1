package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.client.Segment;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.DomainStats;
import org.cachedafs.transport.Region;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * READ_DIRECT_V against a real server over loopback tcp: the file's bytes land segment after segment
 * in several regions at several offsets, across the server's 1 MiB staging chunks, short at end of
 * file with the segments past it untouched; and the open is checked as for READ_DIRECT.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScatterReadTest {
  private static final byte UNTOUCHED = 0x5A;
  @TempDir static Path tmp;
  ServerFixture fixture;
  DafsSession s;
  byte[] data;
  OpenFile file;
  ByteBuffer memoryA;
  ByteBuffer memoryB;
  Region a;
  Region b;

  @BeforeAll
  void start() throws Exception {
    fixture = new ServerFixture(tmp);
    s = fixture.connect();
    data = new byte[(3 << 20) + 4321];
    new Random(17).nextBytes(data);
    Files.write(fixture.export.resolve("data"), data);
    file = s.open(s.root(), "data", OpenMode.read());
    a = s.allocate(4 << 20);
    b = s.allocate(2 << 20);
    memoryA = a.buffer();
    memoryB = b.buffer();
  }

  @AfterAll
  void stop() {
    a.close();
    b.close();
    fixture.close();
  }

  @BeforeEach
  void mark() {
    for (ByteBuffer m : List.of(memoryA, memoryB)) {
      byte[] fill = new byte[m.capacity()];
      Arrays.fill(fill, UNTOUCHED);
      m.clear();
      m.put(fill).clear();
    }
  }

  @Test
  void bytesLandSegmentAfterSegmentInSeveralRegions() throws Exception {
    List<Segment> segments = new ArrayList<>();
    segments.add(new Segment(a, 100, 5000));
    segments.add(new Segment(b, 7, 1));
    segments.add(new Segment(a, 1 << 20, 3 << 19)); // 1.5 MiB: spans the server's staging chunks
    segments.add(new Segment(b, 65536, 65536));
    for (int i = 0; i < 20; i++) {
      segments.add(new Segment(a, 6000 + i * 1000, 333)); // many segments within one staging chunk
    }
    segments.add(new Segment(b, 10, 20)); // back to an earlier place of a region
    long offset = 12345;
    int total = segments.stream().mapToInt(Segment::length).sum();

    DomainStats before = s.stats().domain();
    assertEquals(total, s.readDirectV(file, offset, segments));
    DomainStats after = s.stats().domain();
    // On shm the server's copies land without this side running any code, so nothing counts them.
    assertEquals(s.transport().equals("tcp") ? total : 0, after.placedBytes() - before.placedBytes(),
        "every byte placed straight into the regions");
    assertEquals(0, after.stagedBytes() - before.stagedBytes(), "no byte went through a staging buffer");
    assertPlaced(segments, offset, total);
  }

  @Test
  void atEndOfFileTheCountIsShortAndLaterSegmentsAreUntouched() throws Exception {
    long offset = data.length - 70_000;
    List<Segment> segments = List.of(new Segment(a, 0, 50_000), new Segment(b, 0, 50_000), new Segment(a, 200_000, 10));
    assertEquals(70_000, s.readDirectV(file, offset, segments));
    assertPlaced(segments, offset, 70_000);
    mark();
    assertEquals(0, s.readDirectV(file, data.length + 5L, List.of(new Segment(a, 0, 10))), "wholly past the end");
    assertEquals(UNTOUCHED, memoryA.get(0));
  }

  @Test
  void aListLongerThanOneRequestTakesSeveral() throws Exception {
    List<Segment> segments = new ArrayList<>();
    for (int i = 0; i < Limits.MAX_SEGMENTS + 36; i++) {
      segments.add(new Segment(i % 2 == 0 ? a : b, (i / 2) * 8192 + 3, 4096));
    }
    segments.add(new Segment(a, 3 << 20, 0)); // empty segments are left out
    long executed = fixture.server.stats().executed();
    int total = (Limits.MAX_SEGMENTS + 36) * 4096;
    assertEquals(total, s.readDirectV(file, 77, segments));
    assertEquals(2, fixture.server.stats().executed() - executed, "two requests");
    assertPlaced(segments, 77, total);
  }

  @Test
  void theOpenIsCheckedAsForADirectRead() throws Exception {
    Files.write(fixture.export.resolve("write-only"), new byte[10]);
    OpenFile w = s.open(s.root(), "write-only", OpenMode.write());
    List<Segment> one = List.of(new Segment(a, 0, 10));
    assertEquals(Status.ACCES, assertThrows(DafsException.class, () -> s.readDirectV(w, 0, one)).status());
    OpenFile forged = new OpenFile(file.handle(), file.stateId() + 1, file.mode(), file.attributes(), 0, 0);
    assertEquals(Status.BAD_STATEID, assertThrows(DafsException.class, () -> s.readDirectV(forged, 0, one)).status());
    s.close(w);
  }

  @Test
  void segmentsOutsideTheirRegionOrOfAnotherSessionAreRefusedLocally() throws Exception {
    long executed = fixture.server.stats().executed();
    assertThrows(IllegalArgumentException.class, () -> s.readDirectV(file, 0, List.of(new Segment(a, 0, 10), new Segment(b, b.length() - 5, 10))));
    assertThrows(IllegalArgumentException.class, () -> s.readDirectV(file, 0, List.of(new Segment(a, -1, 10))));
    try (Region foreign = fixture.connect().allocate(64)) {
      assertThrows(IllegalArgumentException.class, () -> s.readDirectV(file, 0, List.of(new Segment(foreign, 0, 10))), "another session's region");
    }
    assertEquals(Status.INVAL, assertThrows(DafsException.class, () -> s.readDirectV(file, Long.MAX_VALUE - 5, List.of(new Segment(a, 0, 10)))).status());
    assertEquals(executed, fixture.server.stats().executed(), "nothing was sent");
  }

  /** The first {@code count} bytes of the file from {@code offset} are in the segments, in order, and nothing past them. */
  private void assertPlaced(List<Segment> segments, long offset, int count) {
    int at = 0;
    for (Segment sg : segments) {
      ByteBuffer m = sg.region() == a ? memoryA : memoryB;
      int n = Math.max(0, Math.min(sg.length(), count - at));
      byte[] got = new byte[sg.length()];
      m.get(sg.regionOffset(), got);
      byte[] expected = new byte[sg.length()];
      Arrays.fill(expected, UNTOUCHED);
      if (n > 0) {
        System.arraycopy(data, (int) offset + at, expected, 0, n);
      }
      assertArrayEquals(expected, got, "segment at " + sg.regionOffset() + " of " + (sg.region() == a ? "a" : "b"));
      at += sg.length();
    }
  }
}
