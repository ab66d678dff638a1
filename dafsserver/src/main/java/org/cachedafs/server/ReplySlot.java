package org.cachedafs.server;

import java.nio.ByteBuffer;
import org.cachedafs.protocol.Opcode;

/**
 * One credit slot of a session and its reply cache entry (NFSv4.1 sessions, RFC 8881 section 2.10.6).
 *
 * <p>A request carrying the slot's next sequence number is new. One carrying the current number is a
 * retransmission: it gets the cached reply, or DELAY while the original still runs, or, for an
 * idempotent operation whose reply is not cached, runs again. Any other number is misordered.
 */
final class ReplySlot {
  enum Verdict { EXECUTE, REPLAY, DELAY, MISORDERED }

  /** Guarded by this. */
  private int lastSequence;
  /** Guarded by this. */
  private boolean inProgress;
  /** Guarded by this. */
  private Opcode lastOp;
  /** Guarded by this. */
  private ByteBuffer cachedReply;

  synchronized Verdict admit(int sequence, Opcode op) {
    if (sequence == lastSequence + 1) {
      lastSequence = sequence;
      lastOp = op;
      inProgress = true;
      cachedReply = null;
      return Verdict.EXECUTE;
    }
    if (sequence == lastSequence && sequence != 0) {
      if (op != lastOp) {
        return Verdict.MISORDERED;
      }
      if (inProgress) {
        return Verdict.DELAY;
      }
      if (cachedReply != null) {
        return Verdict.REPLAY;
      }
      inProgress = true;
      return Verdict.EXECUTE;
    }
    return Verdict.MISORDERED;
  }

  /** The request finished; a non-idempotent operation's reply is kept for retransmissions. */
  synchronized void finish(Opcode op, ByteBuffer reply) {
    inProgress = false;
    cachedReply = op.idempotent() ? null : reply;
  }

  /** The request ran but got no reply (its transfer was interrupted): a retransmission runs it again. */
  synchronized void abandon() {
    inProgress = false;
    cachedReply = null;
  }

  synchronized ByteBuffer cachedReply() {
    return cachedReply;
  }
}
