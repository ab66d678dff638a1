package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import org.cachedafs.protocol.Codec;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;

/**
 * Session-level fuzzing: sequenced requests with malformed bodies interleaved with valid ones on the
 * same session and slots. Every poison must be answered BADXDR and use up its sequence number; every
 * valid request must be answered correctly (its data checked); a retransmitted poison gets BADXDR again.
 */
final class SessionFuzzer {
  enum Poison { NUL_IN_PATH, PATH_TOO_LONG, NAME_TOO_LONG, NEGATIVE_OFFSET, TRUNCATED, TRAILING_BYTES, BAD_UTF8, BAD_OPEN_FLAGS, COUNT_TOO_LARGE }

  private final RawClient raw;
  private final Random rnd;
  private final int[] sequence;
  private final Map<Poison, int[]> tried = new EnumMap<>(Poison.class);
  private byte[] content;
  private FileHandle target;
  private long state;
  int poisoned;
  int valid;
  int replays;

  SessionFuzzer(RawClient raw, Random rnd, int credits) {
    this.raw = raw;
    this.rnd = rnd;
    this.sequence = new int[credits];
  }

  /** Makes the target file, then sends requests, about half of them poisoned, until {@code poisons} were. */
  void run(int poisons) throws IOException {
    content = new byte[4096];
    rnd.nextBytes(content);
    RawClient.Answer opened = raw.call(Opcode.OPEN, new Requests.Open(raw.root, "fuzz-target", Requests.Open.ACCESS_READ | Requests.Open.ACCESS_WRITE,
        0, Requests.Open.CREATE | Requests.Open.TRUNCATE | Requests.Open.NO_DELEGATION, 0644), 0, ++sequence[0]);
    assertEquals(Status.OK, opened.status());
    Replies.Opened o = (Replies.Opened) opened.body();
    target = o.handle();
    state = o.stateId();
    assertEquals(Status.OK, raw.call(Opcode.WRITE, new Requests.Write(state, 0, ByteBuffer.wrap(content)), 0, ++sequence[0]).status());
    for (int i = 0; poisoned < poisons; i++) {
      int slot = rnd.nextInt(sequence.length);
      if (rnd.nextBoolean()) {
        poison(slot, i);
      } else {
        valid(slot, i);
      }
    }
  }

  private void poison(int slot, int i) throws IOException {
    Poison kind = Poison.values()[rnd.nextInt(Poison.values().length)];
    tried.computeIfAbsent(kind, k -> new int[1])[0]++;
    int seq = ++sequence[slot];
    ByteBuffer frame = poisonFrame(kind, slot, seq);
    long id = frame.getLong(16);
    raw.send(frame);
    RawClient.Answer a = raw.answerTo(id);
    assertEquals(Status.BADXDR, a.status(), "request " + i + ": " + kind + " on slot " + slot + " sequence " + seq);
    poisoned++;
    if (rnd.nextInt(10) == 0) {
      raw.send(frame); // a retransmission: same slot, sequence and request id
      assertEquals(Status.BADXDR, raw.answerTo(id).status(), "request " + i + ": retransmitted " + kind);
      replays++;
    }
  }

  private ByteBuffer poisonFrame(Poison kind, int slot, int seq) {
    switch (kind) {
      case NUL_IN_PATH:
        return raw.request(Opcode.LOOKUP, new Requests.Lookup(raw.root, "fuzz\0target"), slot, seq);
      case PATH_TOO_LONG:
        return raw.request(Opcode.LOOKUP, new Requests.Lookup(raw.root, "p/".repeat(Limits.MAX_PATH / 2 + 1 + rnd.nextInt(100))), slot, seq);
      case NAME_TOO_LONG:
        return raw.request(Opcode.CREATE, new Requests.Entry(raw.root, "n".repeat(Limits.MAX_PATH + 1 + rnd.nextInt(1000)), 0644, false), slot, seq);
      case NEGATIVE_OFFSET:
        return raw.request(Opcode.READ, new Requests.Read(state, -1 - rnd.nextInt(1 << 20), 16), slot, seq);
      case TRUNCATED: {
        ByteBuffer whole = raw.request(Opcode.GETATTR, new Requests.HandleArg(target, false), slot, seq);
        return whole.limit(Codec.HEADER_BYTES + rnd.nextInt(whole.limit() - Codec.HEADER_BYTES)).slice();
      }
      case TRAILING_BYTES: {
        ByteBuffer whole = raw.request(Opcode.GETATTR, new Requests.HandleArg(target, false), slot, seq);
        ByteBuffer longer = ByteBuffer.allocate(whole.remaining() + 1 + rnd.nextInt(64));
        return longer.put(whole).flip().limit(longer.capacity());
      }
      case BAD_UTF8: {
        ByteBuffer f = raw.request(Opcode.LOOKUP, new Requests.Lookup(raw.root, "abcd"), slot, seq);
        f.put(f.limit() - 2, (byte) 0xC3).put(f.limit() - 1, (byte) 0x28); // a lead byte followed by no continuation
        return f;
      }
      case BAD_OPEN_FLAGS:
        return raw.request(Opcode.OPEN, new Requests.Open(raw.root, "fuzz-target", Requests.Open.ACCESS_READ, 0, 1 << 20, 0), slot, seq);
      case COUNT_TOO_LARGE:
        return raw.request(Opcode.READ, new Requests.Read(state, 0, Limits.MAX_INLINE + 1 + rnd.nextInt(1 << 20)), slot, seq);
      default:
        throw new AssertionError(kind);
    }
  }

  private void valid(int slot, int i) throws IOException {
    int seq = ++sequence[slot];
    switch (rnd.nextInt(3)) {
      case 0 -> {
        RawClient.Answer a = raw.call(Opcode.LOOKUP, new Requests.Lookup(raw.root, "fuzz-target"), slot, seq);
        assertEquals(Status.OK, a.status(), "request " + i + ": LOOKUP");
        assertEquals(target, ((Replies.HandleAttrs) a.body()).handle());
      }
      case 1 -> {
        RawClient.Answer a = raw.call(Opcode.GETATTR, new Requests.HandleArg(target, false), slot, seq);
        assertEquals(Status.OK, a.status(), "request " + i + ": GETATTR");
        assertEquals(content.length, ((Replies.Attrs) a.body()).attributes().size());
      }
      default -> {
        int off = rnd.nextInt(content.length);
        int len = 1 + rnd.nextInt(content.length - off);
        RawClient.Answer a = raw.call(Opcode.READ, new Requests.Read(state, off, len), slot, seq);
        assertEquals(Status.OK, a.status(), "request " + i + ": READ");
        ByteBuffer data = ((Replies.ReadData) a.body()).data();
        byte[] got = new byte[data.remaining()];
        data.get(got);
        assertArrayEquals(Arrays.copyOfRange(content, off, off + len), got, "request " + i + ": READ " + len + " at " + off);
      }
    }
    valid++;
  }

  String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append(poisoned).append(" poisoned (").append(replays).append(" retransmitted), ").append(valid).append(" valid; kinds:");
    tried.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v[0]));
    assertTrue(tried.size() == Poison.values().length || poisoned < 100, "every kind of poison was tried");
    return sb.toString();
  }
}
