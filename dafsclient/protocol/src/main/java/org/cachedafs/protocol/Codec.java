package org.cachedafs.protocol;

import java.nio.ByteBuffer;

/**
 * The one codec both sides use.
 *
 * <pre>
 *  offset size field
 *  0      4    magic 0x44414653 ("DAFS")
 *  4      1    version (4)
 *  5      1    kind: 1 request, 2 reply, 3 callback, 4 callback reply
 *  6      2    opcode
 *  8      4    status (replies; 0 otherwise)
 *  12     4    reserved, 0
 *  16     8    request id
 *  24     8    session id
 *  32     4    slot (-1 when unsequenced)
 *  36     4    sequence
 *  40     ...  body
 * </pre>
 *
 * The transport carries the frame's length in its own header; a protocol frame is at most
 * {@link Limits#MAX_FRAME} bytes. Stateless: every method is a pure function of its arguments.
 */
public final class Codec {
  public static final int MAGIC = 0x44414653;
  /**
   * 2: handshakes agree a per-session key (X25519), and SESSION_BIND proves it. 3: direct transfers
   * name client memory by an opaque region descriptor; TRANSPORT_OFFERS. 4: ODAFS: READ and
   * READ_DIRECT carry flags and may ask for references to the server's exported cache, their replies
   * carry them, and REFERENCES asks for a range. 5: a file handle is 1 to 160 bytes with its length
   * before it (it was 16 bytes), so that a server can build it from the kernel's file handle and it
   * outlives the server. 6: grace and reclaim after a server restart: AUTH_INIT's reply carries the
   * server's boot verifier, SESSION_CREATE a client id (covered by the client's proof), and
   * OPEN_RECLAIM, LOCK_RECLAIM and RECLAIM_COMPLETE take back what a client held before the restart.
   */
  public static final int VERSION = 6;
  public static final int HEADER_BYTES = 40;
  static final int REQUEST_ID_OFFSET = 16;

  private Codec() {}

  /** Encodes a message into a new heap buffer positioned at 0; the caller owns it. */
  public static ByteBuffer encode(FrameHeader h, Body body) {
    WireWriter w = new WireWriter(HEADER_BYTES + 64);
    w.putInt(MAGIC)
        .putByte(VERSION)
        .putByte(h.kind().wire())
        .putShort(h.opcode())
        .putInt(h.status().code())
        .putInt(0)
        .putLong(h.requestId())
        .putLong(h.sessionId())
        .putInt(h.slot())
        .putInt(h.sequence());
    body.encode(w);
    if (w.position() > Limits.MAX_FRAME) {
      throw new IllegalArgumentException("message of " + w.position() + " bytes exceeds the frame limit");
    }
    return w.finish();
  }

  /**
   * Decodes the header, leaving {@code frame} positioned at the body. A bad header means the peer does
   * not speak this protocol: the caller closes the connection.
   */
  public static FrameHeader decodeHeader(ByteBuffer frame) throws MalformedFrameException {
    if (frame.remaining() < HEADER_BYTES) {
      throw new MalformedFrameException("frame of " + frame.remaining() + " bytes is shorter than the header");
    }
    WireReader r = new WireReader(frame);
    int magic = r.getInt();
    if (magic != MAGIC) {
      throw new MalformedFrameException("bad magic 0x" + Integer.toHexString(magic));
    }
    int version = r.getByte();
    if (version != VERSION) {
      throw new MalformedFrameException("unsupported version " + version);
    }
    FrameKind kind = FrameKind.ofWire(r.getByte());
    int opcode = r.getShort();
    Status status = Status.ofCode(r.getInt());
    int reserved = r.getInt();
    if (reserved != 0) {
      throw new MalformedFrameException("reserved header field is " + reserved);
    }
    return new FrameHeader(kind, opcode, status, r.getLong(), r.getLong(), r.getInt(), r.getInt());
  }

  /**
   * Decodes the body that follows a header. A failure here is answered with a BADXDR reply; an
   * opcode this side does not know is the caller's to answer (NOTSUPP).
   */
  public static Body decodeBody(FrameHeader h, ByteBuffer frame) throws MalformedFrameException {
    Opcode op = h.op();
    if (op == null) {
      throw new MalformedFrameException("unknown opcode " + h.opcode());
    }
    WireReader r = new WireReader(frame);
    Body body;
    if (h.kind().isReply()) {
      body = h.status() == Status.OK ? op.replyDecoder().decode(r) : Replies.Error.decode(r);
    } else {
      body = op.requestDecoder().decode(r);
    }
    r.expectEnd();
    return body;
  }

  /** Decodes a whole frame. */
  public static Frame decode(ByteBuffer frame) throws MalformedFrameException {
    FrameHeader h = decodeHeader(frame);
    return new Frame(h, decodeBody(h, frame));
  }

  /** A copy of an encoded frame with another request id, for answering a retransmission from the reply cache. */
  public static ByteBuffer withRequestId(ByteBuffer encoded, long requestId) {
    ByteBuffer copy = ByteBuffer.allocate(encoded.remaining());
    copy.put(encoded.duplicate()).flip();
    copy.putLong(REQUEST_ID_OFFSET, requestId);
    return copy;
  }
}
