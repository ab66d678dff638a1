package org.cachedafs.client;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.cachedafs.protocol.Body;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Requests.Request;
import org.cachedafs.transport.Connection;

/** A request of the {@link RequestPipeline}, from its call until its reply or failure. */
final class Outstanding {
  final long id;
  final Opcode op;
  final Request body;
  /** The connection a handshake request belongs to; null for session requests. */
  final Connection pinned;
  final CompletableFuture<Body> result = new CompletableFuture<>();
  /** The credit slot it holds, -1 for an unsequenced request; set before it is first sent. */
  volatile int slot = -1;
  /** Set before it is first sent, and kept: every retransmission sends these same bytes. */
  volatile ByteBuffer encoded;
  /** When it was first sent (nanoTime), or would have been without a connection; set with {@link #encoded}. */
  volatile long sentAt;
  /** DELAY answers so far; touched only by the pipeline's reply handling, on a receive thread. */
  int delays;
  /** Whether it has gone out on a connection: then a server that restarted since may have run it. */
  volatile boolean transmitted;
  /**
   * Set when the server restarted while it was unanswered and it had gone out: it is sent again in the
   * new session, where the reply cache no longer knows it, so its error may say it had run
   * ({@link AcrossRestart}).
   */
  volatile boolean resentAfterRestart;

  Outstanding(long id, Opcode op, Request body, Connection pinned) {
    this.id = id;
    this.op = op;
    this.body = body;
    this.pinned = pinned;
  }
}
