package org.cachedafs.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every message survives a round trip, and every truncation or stray byte is a MalformedFrameException, never anything else. */
class CodecTest {
  static final FileHandle H = new FileHandle(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  /** The shortest and the longest handle the protocol carries. */
  static final FileHandle SHORT = new FileHandle(new byte[] {7});
  static final FileHandle LONGEST = new FileHandle(new byte[Limits.MAX_HANDLE_BYTES]);
  static final FileAttributes A = new FileAttributes(FileType.REGULAR, 1234, 0100644, 1, 1000, 1000, 1, 2, 3, 4, 99, 3);

  record Sample(FrameHeader header, Body body) {}

  static List<Sample> samples() {
    List<Sample> s = new ArrayList<>();
    byte[] nonce = new byte[Limits.NONCE_BYTES];
    new Random(7).nextBytes(nonce);
    req(s, Opcode.AUTH_INIT, new Requests.AuthInit("client é"));
    req(s, Opcode.SESSION_CREATE, new Requests.SessionCreate(nonce, nonce, nonce, 32, 30000, new byte[Limits.CLIENT_ID_BYTES]));
    req(s, Opcode.SESSION_BIND, new Requests.SessionBind(77, nonce, nonce));
    req(s, Opcode.SESSION_RENEW, Requests.NoArgs.INSTANCE);
    req(s, Opcode.LOOKUP, new Requests.Lookup(H, "a/b/c"));
    req(s, Opcode.GETATTR, new Requests.HandleArg(H, false));
    req(s, Opcode.SETATTR, new Requests.SetAttr(H, 5, new SetAttributes(SetAttributes.SIZE | SetAttributes.MODE, 10, 0600, 0, 0)));
    req(s, Opcode.OPEN, new Requests.Open(H, "f", 3, 0, Requests.Open.CREATE | Requests.Open.TRUNCATE, 0644));
    req(s, Opcode.CLOSE, new Requests.StateArg(-9));
    req(s, Opcode.READ, new Requests.Read(1, 4096, 100));
    req(s, Opcode.READ, new Requests.Read(1, 4096, 100, Requests.Read.REFERENCES));
    req(s, Opcode.READ_DIRECT, new Requests.Direct(1, 8, 4096, d(0x12), 64, Requests.Read.REFERENCES));
    req(s, Opcode.REFERENCES, new Requests.ReferenceRange(1, 7, Limits.MAX_REFERENCES));
    req(s, Opcode.WRITE, new Requests.Write(1, 7, ByteBuffer.wrap(new byte[] {9, 8, 7})));
    req(s, Opcode.READ_DIRECT, new Requests.Direct(1, 8, 1 << 20, d(0x12, 0x34), 64));
    req(s, Opcode.READ_DIRECT_V, new Requests.DirectV(1, 8, List.of(new Requests.Segment(d(0x12, 0x34), 64, 4096), new Requests.Segment(d(-7, 1, 2, 3, 4, 5, 6, 7), 0, 1 << 20))));
    req(s, Opcode.CREATE, new Requests.Entry(H, "n", 0644, true));
    req(s, Opcode.RENAME, new Requests.Rename(H, "x", H, "y"));
    req(s, Opcode.RENAME, new Requests.Rename(SHORT, "x", LONGEST, "y"));
    req(s, Opcode.READDIR, new Requests.ReadDir(H, 55, 100));
    req(s, Opcode.LOCK, new Requests.Lock(3, H, new LockRange(10, 0, true)));
    req(s, Opcode.DELEGRETURN, new Requests.Delegation(8, H));
    req(s, Opcode.OPEN_RECLAIM, new Requests.Reclaim(-4, H, 3, 2, Replies.Opened.DELEGATION_WRITE, 99));
    req(s, Opcode.OPEN_RECLAIM, new Requests.Reclaim(0, LONGEST, 0, 0, Replies.Opened.DELEGATION_READ, -1));
    req(s, Opcode.LOCK_RECLAIM, new Requests.Lock(3, H, new LockRange(0, 10, false)));
    req(s, Opcode.RECLAIM_COMPLETE, Requests.NoArgs.INSTANCE);
    s.add(new Sample(FrameHeader.request(Opcode.AUTH_INIT, 5, 0, -1, 0).reply(Status.OK), new Replies.Challenge(nonce, -17)));
    s.add(new Sample(FrameHeader.callback(Opcode.CB_RECALL, 9, 10), new Requests.Delegation(8, H)));
    FrameHeader r = FrameHeader.request(Opcode.READDIR, 5, 6, 1, 2).reply(Status.OK);
    s.add(new Sample(r, new Replies.DirPage(List.of(new DirEntry("e", H, A, 42)), 42, true)));
    s.add(new Sample(FrameHeader.request(Opcode.OPEN, 5, 6, 1, 2).reply(Status.OK), new Replies.Opened(4, H, A, Replies.Opened.DELEGATION_WRITE, 12)));
    s.add(new Sample(FrameHeader.request(Opcode.READ, 5, 6, 1, 2).reply(Status.OK), new Replies.ReadData(true, ByteBuffer.wrap(new byte[] {1, 2}))));
    Replies.References refs = new Replies.References(4096, List.of(new Replies.Reference(d(1, 2, 3), 4224, -5, 6, 7, 8),
        new Replies.Reference(d(9), 0, 1, 2, 3, 0)));
    s.add(new Sample(FrameHeader.request(Opcode.READ, 5, 6, 1, 2).reply(Status.OK), new Replies.ReadData(false, ByteBuffer.wrap(new byte[] {3}), refs)));
    s.add(new Sample(FrameHeader.request(Opcode.READ_DIRECT, 5, 6, 1, 2).reply(Status.OK), new Replies.Count(4096, false, refs)));
    s.add(new Sample(FrameHeader.request(Opcode.REFERENCES, 5, 6, 1, 2).reply(Status.OK), refs));
    s.add(new Sample(FrameHeader.request(Opcode.REFERENCES, 5, 6, 1, 2).reply(Status.OK), Replies.References.NONE));
    s.add(new Sample(FrameHeader.request(Opcode.STATFS, 5, 6, 1, 2).reply(Status.OK), new Replies.StatFs(new FsStats(1, 2, 3, 4096, 255, 1, 2, 1L << 40))));
    s.add(new Sample(FrameHeader.request(Opcode.LOCKT, 5, 6, 1, 2).reply(Status.OK), new Replies.LockTest(new LockRange(1, 2, false))));
    s.add(new Sample(FrameHeader.request(Opcode.SESSION_CREATE, 5, 0, -1, 0).reply(Status.OK), new Replies.SessionGranted(6, 32, 1000, nonce, nonce, H)));
    s.add(new Sample(FrameHeader.request(Opcode.REMOVE, 5, 6, 1, 2).reply(Status.NOENT), new Replies.Error("no such file")));
    s.add(new Sample(FrameHeader.request(Opcode.SESSION_RENEW, 5, 6, -1, 0).reply(Status.OK), new Replies.Renewed(List.of(7L, -3L))));
    return s;
  }

  private static void req(List<Sample> s, Opcode op, Body b) {
    s.add(new Sample(FrameHeader.request(op, 11, 22, op.sequenced() ? 3 : -1, op.sequenced() ? 4 : 0), b));
  }

  @Test
  void everyMessageRoundTrips() throws Exception {
    for (Sample s : samples()) {
      ByteBuffer encoded = Codec.encode(s.header(), s.body());
      Frame f = Codec.decode(encoded.duplicate());
      assertEquals(s.header(), f.header(), "header of " + s.body());
      // Records holding arrays or buffers compare by identity, so compare by re-encoding.
      assertEquals(encoded, Codec.encode(f.header(), f.body()), "body of " + s.body());
    }
  }

  /** A reclaim's modes must fit what it reclaims: an open (access 1..3), or a delegation alone (no modes, a type and an id). */
  @Test
  void badReclaimFieldsAreMalformed() {
    FrameHeader h = FrameHeader.request(Opcode.OPEN_RECLAIM, 1, 2, 3, 4);
    for (Requests.Reclaim r : List.of(
        new Requests.Reclaim(5, H, 0, 0, 0, 0), // an open with no access
        new Requests.Reclaim(5, H, 3, 4, 0, 0), // an unknown deny mode
        new Requests.Reclaim(5, H, 1, 0, 3, 7), // an unknown delegation type
        new Requests.Reclaim(5, H, 1, 0, 1, 0), // a delegation without its id
        new Requests.Reclaim(5, H, 1, 0, 0, 7), // an id without a delegation
        new Requests.Reclaim(0, H, 0, 0, 0, 0), // neither an open nor a delegation
        new Requests.Reclaim(0, H, 1, 0, 1, 7))) { // modes without an open
      assertThrows(MalformedFrameException.class, () -> Codec.decode(Codec.encode(h, r)), r.toString());
    }
    ByteBuffer challenge = Codec.encode(FrameHeader.request(Opcode.AUTH_INIT, 1, 0, -1, 0).reply(Status.OK), new Replies.Challenge(new byte[Limits.NONCE_BYTES], 1));
    challenge.putLong(challenge.limit() - 8, 0); // no boot verifier
    assertThrows(MalformedFrameException.class, () -> Codec.decode(challenge));
  }

  /** Every field of the ODAFS bodies is checked: flags, counts, block sizes, odd generations. */
  @Test
  void badReferenceFieldsAreMalformed() {
    FrameHeader reply = FrameHeader.request(Opcode.REFERENCES, 5, 6, 1, 2).reply(Status.OK);
    Replies.References one = new Replies.References(4096, List.of(new Replies.Reference(d(1), 0, 1, 2, 3, 4)));
    ByteBuffer ok = Codec.encode(reply, one);
    int body = Codec.HEADER_BYTES;
    java.util.function.Consumer<java.util.function.Consumer<ByteBuffer>> bad = change -> {
      ByteBuffer f = ByteBuffer.allocate(ok.remaining()).put(ok.duplicate()).flip();
      change.accept(f);
      assertThrows(MalformedFrameException.class, () -> Codec.decode(f));
    };
    bad.accept(f -> f.putInt(body, 4095)); // not a power of two
    bad.accept(f -> f.putInt(body, 0)); // no block size with references
    bad.accept(f -> f.putInt(body + 4, Limits.MAX_REFERENCES + 1));
    bad.accept(f -> f.putInt(body + 4, -1));
    bad.accept(f -> f.putLong(f.limit() - 8, 5)); // an odd generation
    bad.accept(f -> f.putLong(f.limit() - 16, -1)); // a negative block
    bad.accept(f -> f.put(body + 8, (byte) 0)); // an empty descriptor
    bad.accept(f -> f.put(body + 8, (byte) (Limits.MAX_DESCRIPTOR + 1)));
    ByteBuffer read = Codec.encode(FrameHeader.request(Opcode.READ, 1, 2, 3, 4), new Requests.Read(1, 0, 10, Requests.Read.REFERENCES));
    read.putInt(read.limit() - 4, 2); // an unknown flag
    assertThrows(MalformedFrameException.class, () -> Codec.decode(read));
    ByteBuffer range = Codec.encode(FrameHeader.request(Opcode.REFERENCES, 1, 2, 3, 4), new Requests.ReferenceRange(1, 0, 1));
    range.putInt(range.limit() - 4, 0); // no blocks
    assertThrows(MalformedFrameException.class, () -> Codec.decode(range));
    range.putInt(range.limit() - 4, 1);
    range.putLong(range.limit() - 12, Long.MAX_VALUE); // past the largest block
    assertThrows(MalformedFrameException.class, () -> Codec.decode(range));
  }

  @Test
  void everyTruncationAndEveryTrailingByteIsMalformed() {
    for (Sample s : samples()) {
      ByteBuffer encoded = Codec.encode(s.header(), s.body());
      for (int len = 0; len < encoded.remaining(); len++) {
        ByteBuffer cut = encoded.duplicate().limit(len);
        assertThrows(MalformedFrameException.class, () -> Codec.decode(cut.slice()), s.body() + " cut at " + len);
      }
      ByteBuffer longer = ByteBuffer.allocate(encoded.remaining() + 1).put(encoded.duplicate()).put((byte) 0).flip();
      assertThrows(MalformedFrameException.class, () -> Codec.decode(longer));
    }
  }

  @Test
  void randomGarbageNeverThrowsAnythingButMalformed() {
    Random rnd = new Random(42);
    for (int i = 0; i < 20_000; i++) {
      ByteBuffer encoded = Codec.encode(samples().get(rnd.nextInt(samples().size())).header(), samples().get(0).body());
      byte[] b = new byte[encoded.remaining()];
      encoded.get(b);
      for (int k = 0; k < 1 + rnd.nextInt(4); k++) {
        b[rnd.nextInt(b.length)] = (byte) rnd.nextInt();
      }
      try {
        Codec.decode(ByteBuffer.wrap(b));
      } catch (MalformedFrameException expected) {
        // Either way is fine; anything else escaping is not.
      }
    }
  }

  @Test
  void scatterListsOutsideTheLimitsAreMalformed() throws Exception {
    Requests.Segment seg = new Requests.Segment(d(5), 0, 4096);
    int count = Codec.HEADER_BYTES + 16;
    int first = count + 4;
    // Too many segments, none, a negative count: refused before the list is allocated.
    for (int n : new int[] {Limits.MAX_SEGMENTS + 1, 0, -1, Integer.MAX_VALUE}) {
      ByteBuffer f = scatter(0, List.of(seg));
      f.putInt(count, n);
      assertThrows(MalformedFrameException.class, () -> Codec.decode(f), n + " segments");
    }
    // As many as allowed is fine.
    List<Requests.Segment> most = java.util.Collections.nCopies(Limits.MAX_SEGMENTS, seg);
    assertEquals(Limits.MAX_SEGMENTS * 4096, ((Requests.DirectV) Codec.decode(scatter(0, most)).body()).length());
    // Empty and negative segments, and a negative region offset.
    for (int len : new int[] {0, -1, Integer.MIN_VALUE}) {
      ByteBuffer f = scatter(0, List.of(seg));
      f.putInt(first + 10, len); // after a 2-byte descriptor and the region offset
      assertThrows(MalformedFrameException.class, () -> Codec.decode(f), "segment of " + len);
    }
    ByteBuffer negative = scatter(0, List.of(seg));
    negative.putLong(first + 2, -1);
    assertThrows(MalformedFrameException.class, () -> Codec.decode(negative));
    // A descriptor of no bytes, or longer than any transport makes.
    for (int n : new int[] {0, Limits.MAX_DESCRIPTOR + 1, 255}) {
      ByteBuffer f = scatter(0, List.of(seg));
      f.put(first, (byte) n);
      assertThrows(MalformedFrameException.class, () -> Codec.decode(f), "descriptor of " + n + " bytes");
    }
    // Together more than one direct transfer, past the largest region offset, past the largest file offset.
    Requests.Segment big = new Requests.Segment(d(5), 0, Limits.MAX_DIRECT);
    assertEquals(Limits.MAX_DIRECT, ((Requests.DirectV) Codec.decode(scatter(0, List.of(big))).body()).length());
    assertThrows(MalformedFrameException.class, () -> Codec.decode(scatter(0, List.of(big, new Requests.Segment(d(5), 0, 1)))));
    assertThrows(MalformedFrameException.class, () -> Codec.decode(scatter(0, List.of(new Requests.Segment(d(5), Long.MAX_VALUE - 10, 11)))));
    assertThrows(MalformedFrameException.class, () -> Codec.decode(scatter(Long.MAX_VALUE - 4095, List.of(seg, seg))));
    assertEquals(Long.MAX_VALUE - 4096, ((Requests.DirectV) Codec.decode(scatter(Long.MAX_VALUE - 4096, List.of(seg))).body()).offset());
  }

  private static ByteBuffer scatter(long offset, List<Requests.Segment> segments) {
    return Codec.encode(FrameHeader.request(Opcode.READ_DIRECT_V, 1, 1, 0, 1), new Requests.DirectV(1, offset, segments));
  }

  @Test
  void limitsAreCheckedBeforeAllocation() {
    ByteBuffer f = Codec.encode(FrameHeader.request(Opcode.WRITE, 1, 1, 0, 1), new Requests.Write(1, 0, ByteBuffer.wrap(new byte[4])));
    f.putInt(Codec.HEADER_BYTES + 16, Integer.MAX_VALUE);
    MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> Codec.decode(f));
    assertEquals(true, e.getMessage().contains("outside"));
    ByteBuffer n = Codec.encode(FrameHeader.request(Opcode.LOOKUP, 1, 1, 0, 1), new Requests.Lookup(H, "x"));
    n.putShort(Codec.HEADER_BYTES + 1 + H.bytes().length, (short) 0xFFFF);
    assertThrows(MalformedFrameException.class, () -> Codec.decode(n));
  }

  /** A handle's length byte is checked: 0 and anything past the longest handle are malformed. */
  @Test
  void badHandleLengthsAreMalformed() {
    ByteBuffer ok = Codec.encode(FrameHeader.request(Opcode.GETATTR, 1, 1, 0, 1), new Requests.HandleArg(LONGEST, false));
    for (int length : new int[] {0, Limits.MAX_HANDLE_BYTES + 1, 255}) {
      ByteBuffer f = ByteBuffer.allocate(ok.remaining() + 255).put(ok.duplicate()).flip();
      f.put(Codec.HEADER_BYTES, (byte) length);
      MalformedFrameException e = assertThrows(MalformedFrameException.class, () -> Codec.decode(f));
      assertEquals(true, e.getMessage().contains("file handle"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new FileHandle(new byte[0]));
    assertThrows(IllegalArgumentException.class, () -> new FileHandle(new byte[Limits.MAX_HANDLE_BYTES + 1]));
  }

  private static RegionDescriptor d(int... b) {
    byte[] a = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      a[i] = (byte) b[i];
    }
    return RegionDescriptor.of(a);
  }
}
