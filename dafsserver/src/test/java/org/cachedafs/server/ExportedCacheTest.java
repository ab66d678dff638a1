package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FileType;
import org.cachedafs.protocol.Replies.Reference;
import org.cachedafs.protocol.SlotImage;
import org.cachedafs.protocol.SlotImage.Verdict;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Transports;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The exported cache's slot protocol, read as a client reads it: a copy of the slot, then {@link SlotImage#check}. */
class ExportedCacheTest {
  private static final int BLOCK = 4096;
  private MemoryDomain domain;
  private ExportedCache cache;
  private long nodes;

  @BeforeEach
  void setUp() {
    domain = Transports.forScheme("tcp").openDomain();
    cache = ExportedCache.create(8L * SlotImage.slotBytes(BLOCK), BLOCK, domain, List.of(), new SecureRandom());
  }

  @AfterEach
  void tearDown() {
    cache.close();
    domain.close();
  }

  private FileNode node() {
    byte[] h = new byte[16];
    h[0] = (byte) ++nodes;
    return new FileNode(new FileHandle(h), "key" + nodes, FileType.REGULAR, null, "f" + nodes, Path.of("/"), nodes);
  }

  private static ByteBuffer block(long stamp, int length) {
    ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (b.remaining() >= 8) {
      b.putLong(stamp);
    }
    return b.flip();
  }

  /** One client read of the slot a reference names: a bulk copy of header, block and trailer. */
  private ByteBuffer copyOf(Reference ref) {
    int slot = slotFor(ref);
    ByteBuffer slab = cache.slabOf(slot).buffer();
    ByteBuffer image = ByteBuffer.allocate(SlotImage.readLength(BLOCK));
    image.put(slab.slice((int) ref.slotOffset(), SlotImage.readLength(BLOCK))).flip();
    return image;
  }

  private int slotFor(Reference ref) {
    return (int) (ref.slotOffset() / SlotImage.slotBytes(BLOCK)); // one slab in these tests
  }

  private Verdict check(Reference ref, int from, int to) {
    return SlotImage.check(copyOf(ref), BLOCK, ref.boot(), ref.file(), ref.block(), ref.generation(), from, to);
  }

  private Reference fill(FileNode n, long block, ByteBuffer data) {
    long epoch = cache.epochBeforeRead(n);
    assertTrue(cache.fill(n, block, data, epoch));
    Reference ref = cache.reference(n, block, domain);
    assertNotNull(ref);
    return ref;
  }

  @Test
  void aFilledBlockValidatesAndEveryChangeKillsItsReference() {
    FileNode n = node();
    Reference ref = fill(n, 3, block(42, BLOCK));
    assertEquals(Verdict.VALID, check(ref, 0, BLOCK));
    assertEquals(0, ref.generation() & 1);
    assertEquals(cache.boot(), ref.boot());

    cache.changed(n, 3L * BLOCK + 100, 1); // a write through the server
    assertEquals(Verdict.CHANGED, check(ref, 0, BLOCK));
    assertNull(cache.reference(n, 3, domain));

    Reference again = fill(n, 3, block(43, BLOCK));
    assertTrue(ref.generation() != again.generation() || ref.slotOffset() != again.slotOffset());
    cache.truncated(n, 3L * BLOCK + 10);
    assertEquals(Verdict.CHANGED, check(again, 0, 10));

    Reference third = fill(n, 5, block(44, BLOCK));
    n.markRemoved();
    cache.removed(n);
    assertEquals(Verdict.CHANGED, check(third, 0, 8));
    assertTrue(cache.epochBeforeRead(n) < 0); // a removed file is never filled again
    assertNull(cache.reference(n, 5, domain));
  }

  @Test
  void aShortBlockCoversOnlyItsValidBytes() {
    FileNode n = node();
    Reference ref = fill(n, 0, block(7, 1000));
    assertEquals(Verdict.VALID, check(ref, 0, 1000));
    assertEquals(Verdict.SHORT, check(ref, 0, 1001));
  }

  @Test
  void aFillThatRacedAChangeIsNeverPublished() {
    FileNode n = node();
    long epoch = cache.epochBeforeRead(n); // the fill's read of the file begins
    cache.changed(n, 0, BLOCK); // a write lands meanwhile
    assertFalse(cache.fill(n, 0, block(1, BLOCK), epoch)); // the old bytes must not stay
    assertNull(cache.reference(n, 0, domain));
    assertEquals(-1, cache.slotOf(n, 0));
  }

  @Test
  void aReferenceOfAnotherFileOrBlockOrAGuessedGenerationNeverValidates() {
    FileNode a = node();
    FileNode b = node();
    Reference ra = fill(a, 0, block(1, BLOCK));
    Reference rb = fill(b, 0, block(2, BLOCK));
    ByteBuffer image = copyOf(ra);
    assertEquals(Verdict.CHANGED, SlotImage.check(image, BLOCK, ra.boot(), rb.file(), 0, ra.generation(), 0, BLOCK));
    assertEquals(Verdict.CHANGED, SlotImage.check(image, BLOCK, ra.boot(), ra.file(), 1, ra.generation(), 0, BLOCK));
    assertEquals(Verdict.CHANGED, SlotImage.check(image, BLOCK, ra.boot(), ra.file(), 0, ra.generation() + 2, 0, BLOCK));
    assertEquals(Verdict.CHANGED, SlotImage.check(image, BLOCK, ra.boot() + 1, ra.file(), 0, ra.generation(), 0, BLOCK));
  }

  @Test
  void evictionReusesSlotsAndOldReferencesDie() {
    FileNode n = node();
    Reference first = fill(n, 0, block(100, BLOCK));
    for (long b = 1; b < 64; b++) {
      long epoch = cache.epochBeforeRead(n);
      cache.fill(n, b, block(100 + b, BLOCK), epoch);
    }
    assertTrue(cache.resident() <= cache.slots());
    if (cache.slotOf(n, 0) < 0) {
      assertEquals(Verdict.CHANGED, check(first, 0, BLOCK));
    } else {
      assertEquals(Verdict.VALID, check(first, 0, BLOCK));
    }
  }

  /**
   * A writer rewrites one slot as fast as it can (fills of a new stamp, wipes, fills of other files'
   * blocks into the same slot) while a reader copies it and checks it: every copy accepted must hold
   * one stamp throughout, the one its generation was written with.
   */
  @Test
  void concurrentCopiesAreAcceptedOnlyWhenWhole() throws Exception {
    cache.close();
    cache = ExportedCache.create(SlotImage.slotBytes(BLOCK), BLOCK, domain, List.of(), new SecureRandom()); // one slot
    FileNode n = node();
    Reference ref = fill(n, 0, block(0, BLOCK));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong writes = new AtomicLong();
    Thread writer = new Thread(() -> {
      FileNode other = node();
      long stamp = 1;
      while (!stop.get()) {
        cache.changed(n, 0, BLOCK);
        cache.fill(n, 0, block(stamp++, BLOCK), cache.epochBeforeRead(n));
        cache.fill(other, 0, block(-stamp, BLOCK), cache.epochBeforeRead(other));
        cache.changed(other, 0, BLOCK);
        writes.incrementAndGet();
      }
    });
    writer.start();
    long valid = 0;
    long torn = 0;
    long bad = 0;
    long deadline = System.nanoTime() + 2_000_000_000L;
    ByteBuffer slab = cache.slabOf(0).buffer();
    ByteBuffer image = ByteBuffer.allocate(SlotImage.readLength(BLOCK)).order(ByteOrder.LITTLE_ENDIAN);
    while (System.nanoTime() < deadline) {
      image.clear();
      image.put(slab.slice(0, SlotImage.readLength(BLOCK))).flip();
      long gen = image.getLong(SlotImage.GENERATION_AT);
      long file = image.getLong(SlotImage.FILE_AT);
      Verdict v = SlotImage.check(image, BLOCK, ref.boot(), file, 0, gen, 0, BLOCK);
      if (v == Verdict.VALID && file != 0) {
        valid++;
        long stamp = image.getLong(SlotImage.HEADER_BYTES);
        for (int at = SlotImage.HEADER_BYTES; at < SlotImage.HEADER_BYTES + BLOCK; at += 8) {
          if (image.getLong(at) != stamp) {
            bad++;
            break;
          }
        }
      } else if (v == Verdict.TORN) {
        torn++;
      }
    }
    stop.set(true);
    writer.join();
    System.out.printf("slot copies: %d accepted, %d torn, %d bad; %d writes%n", valid, torn, bad, writes.get());
    assertEquals(0, bad);
    assertTrue(valid > 0);
  }

  @Test
  void aFencedFileLosesItsSlotsAndIsNotFilledUntilUnfenced() {
    FileNode n = node();
    Reference ref = fill(n, 0, block(1, BLOCK));
    long epoch = cache.epochBeforeRead(n); // a fill under way when the local open comes
    cache.fenced(n);
    assertEquals(Verdict.CHANGED, check(ref, 0, BLOCK), "the local open wiped the slot before it went on");
    assertFalse(cache.fill(n, 1, block(2, BLOCK), epoch), "the fill under way is withdrawn");
    assertTrue(cache.epochBeforeRead(n) < 0, "no fill starts while a local open is counted");
    assertNull(cache.reference(n, 1, domain));
    cache.unfenced(n);
    fill(n, 0, block(3, BLOCK));
  }
}

