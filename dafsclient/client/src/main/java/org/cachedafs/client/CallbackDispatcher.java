package org.cachedafs.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.cachedafs.protocol.Body;
import org.cachedafs.protocol.Codec;
import org.cachedafs.protocol.Frame;
import org.cachedafs.protocol.FrameHeader;
import org.cachedafs.protocol.MalformedFrameException;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;

/**
 * The session's side of delegations: answers the server's callbacks, and tells the {@link
 * RecallListener} of recalls, revocations and the session's loss. Callbacks and revocations are
 * handled on the {@code dafs-callbacks} thread, so that a slow listener never holds up replies or
 * one-sided transfers.
 */
final class CallbackDispatcher {
  private static final org.slf4j.Logger log = org.cachedafs.logging.Loggers.get(CallbackDispatcher.class);
  private final DafsSession session;
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "dafs-callbacks");
    t.setDaemon(true);
    return t;
  });
  /** Set by the application at any time; each use reads it once. */
  private volatile RecallListener listener;

  CallbackDispatcher(DafsSession session) {
    this.session = session;
  }

  void setListener(RecallListener listener) {
    this.listener = listener;
  }

  boolean hasListener() {
    return listener != null;
  }

  /** On the receive thread: decode, and hand everything else (replies included) to the callback thread. */
  void dispatch(Connection c, FrameHeader h, ByteBuffer message) {
    Opcode op = h.op();
    Frame f = op == null || !op.isCallback() ? null : decode(h, message);
    try {
      executor.execute(() -> {
        if (op == null || !op.isCallback()) {
          reply(c, h, Status.NOTSUPP, new Replies.Error("unknown callback " + h.opcode()));
        } else if (f == null) {
          reply(c, h, Status.BADXDR, new Replies.Error("malformed callback"));
        } else {
          handle(c, f);
        }
      });
    } catch (RejectedExecutionException e) {
      // The session is closing; the server learns that from the closed connection.
    }
  }

  /** Null if malformed (the caller answers BADXDR). */
  private static Frame decode(FrameHeader h, ByteBuffer message) {
    try {
      return new Frame(h, Codec.decodeBody(h, message));
    } catch (MalformedFrameException e) {
      return null;
    }
  }

  private void handle(Connection c, Frame f) {
    reply(c, f.header(), Status.OK, Replies.Empty.INSTANCE);
    if (f.header().op() != Opcode.CB_RECALL) {
      return;
    }
    Requests.Delegation d = (Requests.Delegation) f.body();
    RecallListener l = listener;
    if (l != null) {
      try {
        l.onRecall(d.delegationId(), d.handle());
        return;
      } catch (RuntimeException e) {
        log.warn("recall listener failed for delegation {}; returning it at once", Long.toHexString(d.delegationId()), e);
      }
    }
    // Nothing caches under it: hand it back at once.
    session.returnDelegationAsync(d.delegationId(), d.handle());
  }

  /** On the connection the callback came in on, which may no longer be the session's. */
  private static void reply(Connection c, FrameHeader h, Status status, Body body) {
    try {
      c.send(Codec.encode(h.reply(status), body));
    } catch (IOException e) {
      log.debug("could not answer callback {}", h.op(), e);
    }
  }

  /** A renewal reported these delegations revoked; the listener hears it on the callback thread, as it may take locks. */
  void revoked(List<Long> delegationIds) {
    RecallListener l = listener;
    if (l != null && !delegationIds.isEmpty()) {
      run(() -> delegationIds.forEach(l::revoked));
    }
  }

  /**
   * The session took back its state after a server restart: the delegations it could not are reported
   * revoked, then the listener hears of the reclaim; both on the callback thread.
   */
  void reclaimed(List<Long> lostDelegations) {
    RecallListener l = listener;
    if (l != null) {
      run(() -> {
        lostDelegations.forEach(l::revoked);
        l.reclaimed();
      });
    }
  }

  /** The session died without being closed; the listener hears it on the thread that found out. */
  void sessionLost(DafsException cause) {
    RecallListener l = listener;
    if (l != null) {
      try {
        l.sessionLost(cause);
      } catch (RuntimeException e) {
        log.warn("recall listener failed on session loss", e);
      }
    }
  }

  private void run(Runnable task) {
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
