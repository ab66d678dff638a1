package org.cachedafs.protocol;

/**
 * The fixed 40-byte header of every protocol message (see docs/protocol.md for the layout).
 *
 * @param opcode the raw opcode; {@link Opcode#ofCode} tells whether this side knows it
 * @param status OK in requests and callbacks
 * @param requestId chosen by the sender of a request or callback, echoed in its reply; a
 *     retransmission carries the original id
 * @param sessionId 0 before the session exists
 * @param slot the credit slot, or -1 for an unsequenced operation
 * @param sequence the slot's sequence number (starts at 1), 0 when unsequenced
 */
public record FrameHeader(FrameKind kind, int opcode, Status status, long requestId, long sessionId, int slot, int sequence) {

  public static FrameHeader request(Opcode op, long requestId, long sessionId, int slot, int sequence) {
    return new FrameHeader(FrameKind.REQUEST, op.code(), Status.OK, requestId, sessionId, slot, sequence);
  }

  public static FrameHeader callback(Opcode op, long requestId, long sessionId) {
    return new FrameHeader(FrameKind.CALLBACK, op.code(), Status.OK, requestId, sessionId, -1, 0);
  }

  /** The header of the reply to this request or callback. */
  public FrameHeader reply(Status s) {
    FrameKind k = kind == FrameKind.CALLBACK ? FrameKind.CALLBACK_REPLY : FrameKind.REPLY;
    return new FrameHeader(k, opcode, s, requestId, sessionId, slot, sequence);
  }

  /** The opcode, or null when this side does not know it. */
  public Opcode op() {
    return Opcode.ofCode(opcode);
  }
}
