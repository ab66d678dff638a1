package org.cachedafs.client;

import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.cachedafs.protocol.Frame;
import org.cachedafs.protocol.FrameHeader;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;

/**
 * Answers the server's callbacks off the receive thread, so that a slow recall listener never holds
 * up replies or one-sided transfers.
 */
final class CallbackDispatcher {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CallbackDispatcher.class);
  private final ClientSession session;
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "dafs-callbacks");
    t.setDaemon(true);
    return t;
  });

  CallbackDispatcher(ClientSession session) {
    this.session = session;
  }

  /** On the receive thread: decode, and hand everything else (replies included) to the callback thread. */
  void dispatch(Connection c, FrameHeader h, ByteBuffer message) {
    Opcode op = h.op();
    Frame f = op == null || !op.isCallback() ? null : ClientSession.decodeCallback(h, message);
    try {
      executor.execute(() -> {
        if (op == null || !op.isCallback()) {
          session.replyToCallback(c, h, Status.NOTSUPP, new Replies.Error("unknown callback " + h.opcode()));
        } else if (f == null) {
          session.replyToCallback(c, h, Status.BADXDR, new Replies.Error("malformed callback"));
        } else {
          handle(c, f);
        }
      });
    } catch (RejectedExecutionException e) {
      // The session is closing; the server learns that from the closed connection.
    }
  }

  private void handle(Connection c, Frame f) {
    session.replyToCallback(c, f.header(), Status.OK, Replies.Empty.INSTANCE);
    if (f.header().op() != Opcode.CB_RECALL) {
      return;
    }
    Requests.Delegation d = (Requests.Delegation) f.body();
    RecallListener listener = session.recallListener();
    if (listener != null) {
      try {
        listener.onRecall(d.delegationId(), d.handle());
        return;
      } catch (RuntimeException e) {
        log.warn("recall listener failed for delegation {}; returning it at once", Long.toHexString(d.delegationId()), e);
      }
    }
    // Nothing caches under it: hand it back at once.
    session.returnDelegationAsync(d.delegationId(), d.handle());
  }

  /** Runs a task on the callback thread, if the session is not closing. */
  void run(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      // Closing.
    }
  }

  void shutdown() {
    executor.shutdownNow();
  }
}
