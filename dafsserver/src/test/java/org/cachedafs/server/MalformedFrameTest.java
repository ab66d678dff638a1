package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.Codec;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.RegionDescriptor;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated malformed frames from raw sockets: random bytes, truncated frames, wrong magic and
 * version, lengths up to 2^31, unknown opcodes, strings and data running past the frame, negative
 * offsets, bit flips, one-sided operations naming regions that do not exist. Each gets an error reply
 * or a closed connection; the server stays up, keeps serving a well-behaved client in between, and
 * never allocates a message buffer larger than the frame limit.
 *
 * <p>10,000 frames by default; {@code -Psoak} (or {@code -Dcachedafs.fuzz.frames=N}) runs more. The
 * seed is printed; {@code -Dcachedafs.fuzz.seed=S} replays a run.
 */
class MalformedFrameTest {
  enum Kind {
    RANDOM_BYTES, HUGE_LENGTH, NEGATIVE_LENGTH, BAD_TRANSPORT_TYPE, BAD_RESERVED, TRUNCATED, BAD_MAGIC, BAD_VERSION,
    BAD_KIND, UNKNOWN_OPCODE, STRING_PAST_FRAME, DATA_LENGTH_HUGE, NEGATIVE_OFFSET, COUNT_OVER_LIMIT, TRAILING_BYTES,
    BIT_FLIP, WRITE_TO_UNKNOWN_REGION, READ_FROM_UNKNOWN_REGION, READ_RESPONSE_UNSOLICITED, REQUEST_BEFORE_SESSION,
    SCATTER_LIST_OUT_OF_BOUNDS, HANDLE_LENGTH_OUT_OF_RANGE
  }

  /** A probe: its bytes, and whether they form whole frames (else the test half-closes after sending). */
  record Probe(Kind kind, byte[] bytes, boolean complete) {}

  /** The exact answer for the kinds whose header is intact: the body is what is wrong. */
  private static final Map<Kind, Status> EXPECTED = Map.of(
      Kind.UNKNOWN_OPCODE, Status.NOTSUPP,
      Kind.STRING_PAST_FRAME, Status.BADXDR,
      Kind.DATA_LENGTH_HUGE, Status.BADXDR,
      Kind.NEGATIVE_OFFSET, Status.BADXDR,
      Kind.COUNT_OVER_LIMIT, Status.BADXDR,
      Kind.TRAILING_BYTES, Status.BADXDR,
      Kind.SCATTER_LIST_OUT_OF_BOUNDS, Status.BADXDR,
      Kind.HANDLE_LENGTH_OUT_OF_RANGE, Status.BADXDR);

  @TempDir Path tmp;

  @Test
  void malformedFramesGetAnErrorOrACloseAndTheServerStaysUp() throws Exception {
    boolean soak = Boolean.getBoolean("cachedafs.soak");
    int frames = Integer.getInteger("cachedafs.fuzz.frames", soak ? 200_000 : 10_000);
    long seed = Long.getLong("cachedafs.fuzz.seed", System.nanoTime());
    System.out.println("MalformedFrameTest: " + frames + " frames, seed " + seed + " (replay with -Dcachedafs.fuzz.seed=" + seed + ")");
    Random rnd = new Random(seed);
    Map<Kind, int[]> outcomes = new EnumMap<>(Kind.class);

    try (ServerFixture f = new ServerFixture(tmp)) {
      DafsSession good = f.connect();
      OpenFile goodFile = good.open(good.root(), "canary", OpenMode.readWrite().create(0644));
      RawClient raw = null;
      for (int i = 0; i < frames; i++) {
        if (raw == null) {
          raw = new RawClient(f.server.address());
        }
        Probe p = generate(rnd, raw);
        try {
          raw.sendRaw(p.bytes());
        } catch (IOException e) {
          // The server already closed this connection after an earlier frame of this probe.
        }
        RawClient.Outcome out;
        if (p.complete()) {
          out = raw.await(10_000);
        } else {
          try {
            raw.socket.shutdownOutput();
          } catch (IOException ignored) {
            // Already closed by the server.
          }
          out = drainUntilClosed(raw);
        }
        if (!out.answered()) {
          fail("frame " + i + " (" + p.kind() + ", seed " + seed + ") got neither a reply nor a close");
        }
        outcomes.computeIfAbsent(p.kind(), k -> new int[2])[out.closed() ? 1 : 0]++;
        Status expected = EXPECTED.get(p.kind());
        if (expected != null) {
          assertTrue(out.reply() != null && out.reply().status() == expected,
              "frame " + i + " (" + p.kind() + ", seed " + seed + ") should get " + expected + ", got " + out);
        }
        // A refused one-sided read is answered with an error status and then closed, as a remote access
        // error breaks a queue pair: the connection is done either way.
        if (out.closed() || !p.complete() || p.kind() == Kind.READ_FROM_UNKNOWN_REGION) {
          raw.close();
          raw = null;
        }
        if (i % 500 == 0) {
          byte[] data = ("canary " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
          good.write(goodFile, 0, ByteBuffer.wrap(data));
          ByteBuffer back = ByteBuffer.allocate(data.length);
          good.read(goodFile, 0, back);
          assertArrayEquals(data, back.array(), "the well-behaved client is served between malformed frames");
        }
      }
      if (raw != null) {
        raw.close();
      }
      System.out.println("MalformedFrameTest outcomes (replied, closed): " + render(outcomes));
      good.close(goodFile);
      ServerStats st = f.server.stats();
      assertTrue(st.domain().largestMessage() <= Limits.MAX_FRAME, "largest message buffer " + st.domain().largestMessage());
      assertTrue(st.malformed() > frames / 4, "malformed frames counted: " + st.malformed());
      assertEquals(Kind.values().length, outcomes.size(), "every kind of malformed frame was tried");
      // Still serving new clients.
      try (DafsSession fresh = org.cachedafs.client.DafsClient.connect(f.uri(), org.cachedafs.client.ClientOptions.defaults())) {
        fresh.create(fresh.root(), "after-fuzz", 0644, true);
      }
    }
  }

  private static RawClient.Outcome drainUntilClosed(RawClient raw) throws IOException {
    for (int i = 0; i < 100; i++) {
      RawClient.Outcome out = raw.await(10_000);
      if (out.closed()) {
        return out;
      }
      if (!out.answered()) {
        return out;
      }
    }
    return RawClient.Outcome.NOTHING;
  }

  private static String render(Map<Kind, int[]> m) {
    StringBuilder sb = new StringBuilder();
    m.forEach((k, v) -> sb.append(k).append('=').append(v[0]).append('/').append(v[1]).append(' '));
    return sb.toString();
  }

  // --- generators --------------------------------------------------------------------------------

  private static Probe generate(Random rnd, RawClient raw) {
    Kind kind = Kind.values()[rnd.nextInt(Kind.values().length)];
    FileHandle h = randomHandle(rnd);
    switch (kind) {
      case RANDOM_BYTES: {
        byte[] b = new byte[1 + rnd.nextInt(300)];
        rnd.nextBytes(b);
        return new Probe(kind, b, false);
      }
      case HUGE_LENGTH: {
        int[] lengths = {Integer.MAX_VALUE, 1 << 30, Limits.MAX_FRAME + 1, Limits.MAX_FRAME + 1 + rnd.nextInt(Integer.MAX_VALUE - Limits.MAX_FRAME - 1)};
        return new Probe(kind, transport(lengths[rnd.nextInt(lengths.length)], 1, 0, 0, 0, 0, 0, new byte[0]), true);
      }
      case NEGATIVE_LENGTH:
        return new Probe(kind, transport(Integer.MIN_VALUE + rnd.nextInt(1000), 1, 0, 0, 0, 0, 0, new byte[0]), true);
      case BAD_TRANSPORT_TYPE:
        return new Probe(kind, transport(0, 5 + rnd.nextInt(250), 0, 0, 0, 0, 0, new byte[0]), true);
      case BAD_RESERVED:
        return new Probe(kind, transport(0, 1, 0, 1 + rnd.nextInt(1000), 0, 0, 0, new byte[0]), true);
      case TRUNCATED: {
        byte[] whole = RawClient.msg(validRequest(rnd, raw, h));
        return new Probe(kind, java.util.Arrays.copyOf(whole, rnd.nextInt(whole.length)), false);
      }
      case BAD_MAGIC: {
        ByteBuffer f = validRequest(rnd, raw, h);
        f.putInt(0, rnd.nextInt() | 1 ^ Codec.MAGIC);
        return new Probe(kind, RawClient.msg(f), true);
      }
      case BAD_VERSION: {
        ByteBuffer f = validRequest(rnd, raw, h);
        f.put(4, (byte) (2 + rnd.nextInt(200)));
        return new Probe(kind, RawClient.msg(f), true);
      }
      case BAD_KIND: {
        ByteBuffer f = validRequest(rnd, raw, h);
        f.put(5, (byte) (rnd.nextBoolean() ? 0 : 5 + rnd.nextInt(100)));
        return new Probe(kind, RawClient.msg(f), true);
      }
      case UNKNOWN_OPCODE: {
        ByteBuffer f = validRequest(rnd, raw, h);
        int op;
        do {
          op = rnd.nextInt(65536);
        } while (Opcode.ofCode(op) != null);
        f.putShort(6, (short) op);
        return new Probe(kind, RawClient.msg(f), true);
      }
      case STRING_PAST_FRAME: {
        ByteBuffer f = raw.request(Opcode.LOOKUP, new Requests.Lookup(h, "abc"), 0, 1);
        f.putShort(Codec.HEADER_BYTES + 1 + h.bytes().length, (short) (4 + rnd.nextInt(60000)));
        return new Probe(kind, RawClient.msg(f), true);
      }
      case DATA_LENGTH_HUGE: {
        ByteBuffer f = raw.request(Opcode.WRITE, new Requests.Write(1, 0, ByteBuffer.wrap(new byte[8])), 0, 1);
        int[] lengths = {Integer.MAX_VALUE, Limits.MAX_INLINE + 1, -1, 9 + rnd.nextInt(1 << 20)};
        f.putInt(Codec.HEADER_BYTES + 16, lengths[rnd.nextInt(lengths.length)]);
        return new Probe(kind, RawClient.msg(f), true);
      }
      case NEGATIVE_OFFSET: {
        long off = -1 - rnd.nextInt(Integer.MAX_VALUE);
        Requests.Request body = switch (rnd.nextInt(4)) {
          case 0 -> new Requests.Read(1, 0, 10);
          case 1 -> new Requests.Write(1, 0, ByteBuffer.wrap(new byte[3]));
          case 2 -> new Requests.DirectV(1, 0, List.of(new Requests.Segment(descriptor(rnd), 0, 10)));
          default -> new Requests.Direct(1, 0, 10, descriptor(rnd), 0);
        };
        Opcode op = body instanceof Requests.Read ? Opcode.READ : body instanceof Requests.Write ? Opcode.WRITE
            : body instanceof Requests.DirectV ? Opcode.READ_DIRECT_V : Opcode.READ_DIRECT;
        ByteBuffer f = raw.request(op, body, 0, 1);
        f.putLong(Codec.HEADER_BYTES + 8, off);
        return new Probe(kind, RawClient.msg(f), true);
      }
      case COUNT_OVER_LIMIT: {
        ByteBuffer f = raw.request(Opcode.READDIR, new Requests.ReadDir(h, 0, 1), 0, 1);
        f.putInt(Codec.HEADER_BYTES + 1 + h.bytes().length + 8, rnd.nextBoolean() ? Limits.MAX_READDIR_ENTRIES + 1 + rnd.nextInt(1 << 20) : -rnd.nextInt(100));
        return new Probe(kind, RawClient.msg(f), true);
      }
      case SCATTER_LIST_OUT_OF_BOUNDS:
        return new Probe(kind, RawClient.msg(badScatterList(rnd, raw)), true);
      case HANDLE_LENGTH_OUT_OF_RANGE: {
        ByteBuffer f = raw.request(Opcode.GETATTR, new Requests.HandleArg(h, false), 0, 1);
        f.put(Codec.HEADER_BYTES, (byte) (rnd.nextBoolean() ? 0 : Limits.MAX_HANDLE_BYTES + 1 + rnd.nextInt(255 - Limits.MAX_HANDLE_BYTES)));
        return new Probe(kind, RawClient.msg(f), true);
      }
      case TRAILING_BYTES: {
        ByteBuffer f = validRequest(rnd, raw, h);
        byte[] extra = new byte[1 + rnd.nextInt(40)];
        ByteBuffer longer = ByteBuffer.allocate(f.remaining() + extra.length).put(f).put(extra).flip();
        return new Probe(kind, RawClient.msg(longer), true);
      }
      case BIT_FLIP: {
        ByteBuffer f = validRequest(rnd, raw, h);
        int flips = 1 + rnd.nextInt(3);
        for (int i = 0; i < flips; i++) {
          int at = rnd.nextInt(f.remaining());
          f.put(at, (byte) (f.get(at) ^ (1 << rnd.nextInt(8))));
        }
        return new Probe(kind, RawClient.msg(f), true);
      }
      case WRITE_TO_UNKNOWN_REGION: {
        byte[] payload = new byte[rnd.nextInt(64)];
        return new Probe(kind, transport(payload.length, 2, 0, 0, rnd.nextInt(), 0, rnd.nextLong(), payload), true);
      }
      case READ_FROM_UNKNOWN_REGION:
        return new Probe(kind, transport(0, 3, 0, 0, rnd.nextInt(), rnd.nextInt(), rnd.nextLong(), new byte[0]), true);
      case READ_RESPONSE_UNSOLICITED: {
        byte[] payload = new byte[rnd.nextInt(16)];
        return new Probe(kind, transport(payload.length, 4, 0, 0, 0, 0, 0, payload), true);
      }
      case REQUEST_BEFORE_SESSION:
        return new Probe(kind, RawClient.msg(validRequest(rnd, raw, h)), true);
      default:
        throw new IllegalStateException();
    }
  }

  /** A READ_DIRECT_V whose scatter list breaks one of its limits; the header and the rest are intact. */
  private static ByteBuffer badScatterList(Random rnd, RawClient raw) {
    int segments = Codec.HEADER_BYTES + 20; // stateId, offset, count
    Requests.Segment ok = new Requests.Segment(descriptor(rnd), rnd.nextInt(1 << 20), 1 + rnd.nextInt(1 << 16));
    // Each segment: a descriptor (a length byte and 8 bytes), the region offset, the length.
    ByteBuffer f = raw.request(Opcode.READ_DIRECT_V, new Requests.DirectV(1, rnd.nextInt(1 << 20), List.of(ok, ok)), 0, 1);
    switch (rnd.nextInt(7)) {
      case 0 -> f.putInt(segments - 4, rnd.nextBoolean() ? -rnd.nextInt(100) : 0); // no segments, or a negative count
      case 1 -> f.putInt(segments - 4, Limits.MAX_SEGMENTS + 1 + rnd.nextInt(1 << 20)); // too many
      case 2 -> f.putInt(segments + 17, rnd.nextBoolean() ? 0 : -1 - rnd.nextInt(Integer.MAX_VALUE)); // empty or negative segment
      case 3 -> f.putLong(segments + 9, -1 - rnd.nextInt(Integer.MAX_VALUE)); // negative region offset
      case 4 -> { // together more than one direct transfer may move
        f.putInt(segments + 17, Limits.MAX_DIRECT);
        f.putInt(segments + 21 + 17, 1 + rnd.nextInt(Limits.MAX_DIRECT));
      }
      case 5 -> f.put(segments, (byte) (rnd.nextBoolean() ? 0 : Limits.MAX_DESCRIPTOR + 1 + rnd.nextInt(200))); // no descriptor, or too long
      default -> f.putLong(Codec.HEADER_BYTES + 8, Long.MAX_VALUE - rnd.nextInt(ok.length())); // past the largest file offset
    }
    return f;
  }

  private static RegionDescriptor descriptor(Random rnd) {
    byte[] b = new byte[8];
    rnd.nextBytes(b);
    return RegionDescriptor.of(b);
  }

  private static FileHandle randomHandle(Random rnd) {
    byte[] b = new byte[1 + rnd.nextInt(Limits.MAX_HANDLE_BYTES)];
    rnd.nextBytes(b);
    return new FileHandle(b);
  }

  /** A well-formed request of a random operation (not a handshake), on a connection with no session. */
  private static ByteBuffer validRequest(Random rnd, RawClient raw, FileHandle h) {
    return switch (rnd.nextInt(10)) {
      case 0 -> raw.request(Opcode.LOOKUP, new Requests.Lookup(h, "some/path"), 0, 1);
      case 1 -> raw.request(Opcode.READ, new Requests.Read(rnd.nextLong(), rnd.nextInt(1 << 20), rnd.nextInt(4096)), 0, 1);
      case 2 -> raw.request(Opcode.WRITE, new Requests.Write(rnd.nextLong(), 0, ByteBuffer.wrap(new byte[rnd.nextInt(100)])), 0, 1);
      case 3 -> raw.request(Opcode.OPEN, new Requests.Open(h, "f", 3, 0, 1, 0644), 0, 1);
      case 4 -> raw.request(Opcode.RENAME, new Requests.Rename(h, "a", h, "b"), 0, 1);
      case 5 -> raw.request(Opcode.SETATTR, new Requests.SetAttr(h, 0, SetAttributes.size(5)), 0, 1);
      case 6 -> raw.request(Opcode.READDIR, new Requests.ReadDir(h, 0, 10), 0, 1);
      case 7 -> raw.request(Opcode.REFERENCES, new Requests.ReferenceRange(rnd.nextLong(), rnd.nextInt(1 << 20), 1 + rnd.nextInt(Limits.MAX_REFERENCES)), 0, 1);
      case 8 -> raw.request(Opcode.READ, new Requests.Read(rnd.nextLong(), rnd.nextInt(1 << 20), rnd.nextInt(4096), Requests.Read.REFERENCES), 0, 1);
      default -> raw.request(Opcode.AUTH_INIT, new Requests.AuthInit("fuzz"), -1, 0);
    };
  }

  /** A tcp transport frame with a header of the test's choosing. */
  private static byte[] transport(int length, int type, int status, int reserved, long key, int len2, long offset, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(RawClient.TCP_HEADER + payload.length);
    b.putInt(length).put((byte) type).put((byte) status).putShort((short) reserved).putLong(key).putInt(len2).putInt(0).putLong(offset).putLong(0);
    b.put(payload);
    return b.array();
  }

}
