package org.cachedafs.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Body;
import org.cachedafs.protocol.Codec;
import org.cachedafs.protocol.FrameHeader;
import org.cachedafs.protocol.FrameKind;
import org.cachedafs.protocol.MalformedFrameException;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests.Request;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.Received;
import org.slf4j.Logger;

/**
 * Every request from its call to its reply: credit slots, encoding, sending, reply matching, DELAY
 * back-off, and resending everything unanswered on a new connection.
 *
 * <p>A request is encoded once and kept, encoded, in {@link #outstanding} until its reply. A DELAY
 * answer or a new connection sends those very bytes again, with the original slot, sequence and
 * request id, so the server's reply cache can make the retransmission exactly-once. Handshake
 * requests use the same map, unsequenced and pinned to the connection they were sent on.
 *
 * <p>A request is recorded in {@link #outstanding} and sent under the read lock of {@link
 * #connectionLock}, and {@link #install} swaps the connection and resends under the write lock. So a
 * request is either sent on the new connection by its sender or resent by the sweep, never lost in
 * between. Senders share the read lock, so they do not wait for each other.
 *
 * <p>When the server restarted, the session it knew is gone and with it the slots and the reply cache:
 * {@link #restart} moves every unanswered request aside ({@link #held}), and while the session takes
 * its state back ({@link Reclaimer}) every request that may name that state waits there too; {@link
 * #resume} then starts them all again, in their order, on the new session's slots.
 *
 * <p>The transport's receive thread must not send (see {@link
 * org.cachedafs.transport.ConnectionHandler}). A request started on it (a reply freed a slot for a
 * waiting request, or a completion made a new call) goes to the {@code dafs-sender} thread.
 */
final class RequestPipeline {
  private static final Logger log = Loggers.get(RequestPipeline.class);

  private final ScheduledExecutorService timer;
  private final CallbackDispatcher callbacks;
  private final LeaseClock lease;
  private final AtomicLong nextRequestId = new AtomicLong(1);
  /** Added to under {@link #connectionLock}'s read lock (see the class comment); removed by whoever completes the request. */
  private final Map<Long, Outstanding> outstanding = new ConcurrentHashMap<>();
  private final ReentrantReadWriteLock connectionLock = new ReentrantReadWriteLock();
  private final ThreadLocal<Boolean> onReceiveThread = ThreadLocal.withInitial(() -> Boolean.FALSE);
  private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "dafs-sender");
    t.setDaemon(true);
    return t;
  });
  private final LongAdder sent = new LongAdder();
  private final LongAdder retransmissions = new LongAdder();

  /** Guarded by {@link #connectionLock}: written under the write lock; sent on under the read lock. Null while reconnecting. */
  private volatile Connection connection;
  /** Written once by {@link #open}, before the first session request. */
  private volatile CreditSlots slots;
  /** Written once by {@link #open}; stamped on every session request. */
  private volatile long sessionId;
  /** Written once by {@link #fail}; from then on every request fails with it. */
  private volatile DafsException dead;
  /**
   * Written under {@link #connectionLock}'s write lock: from a server restart until the reclaim is
   * done, requests that may name the session's state wait in {@link #held}.
   */
  private volatile boolean recovering;
  /** Requests waiting for the reclaim, in the order they are to start: added under the read lock, drained under the write lock. */
  private final java.util.concurrent.ConcurrentLinkedQueue<Outstanding> held = new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** Server restarts this session has lived through; written under the write lock. */
  private volatile int restarts;

  RequestPipeline(ScheduledExecutorService timer, CallbackDispatcher callbacks, LeaseClock lease) {
    this.timer = timer;
    this.callbacks = callbacks;
    this.lease = lease;
  }

  /** The session the handshake created: its id and the credits the server granted. */
  void open(long sessionId, int credits) {
    this.sessionId = sessionId;
    this.slots = new CreditSlots(credits);
  }

  <T> CompletableFuture<T> call(Opcode op, Request body, Class<T> replyType) {
    return call(op, body).thenApply(replyType::cast);
  }

  CompletableFuture<Body> call(Opcode op, Request body) {
    Outstanding o = new Outstanding(nextRequestId.getAndIncrement(), op, body, null);
    DafsException refused = NameChecks.refusal(body);
    DafsException d = refused != null ? refused : dead;
    if (d != null) {
      o.result.completeExceptionally(d);
      return o.result;
    }
    connectionLock.readLock().lock();
    try {
      start(o);
    } finally {
      connectionLock.readLock().unlock();
    }
    return o.result;
  }

  /**
   * Under {@link #connectionLock} (either lock): holds the request for the reclaim, or starts it on a
   * slot of the session now (or at once, unsequenced).
   */
  private void start(Outstanding o) {
    if (recovering && waitsForReclaim(o.op)) {
      held.add(o);
      DafsException d = dead;
      if (d != null && held.remove(o)) {
        o.result.completeExceptionally(d); // the session died meanwhile, after fail emptied the queue
      }
    } else if (o.op.sequenced()) {
      CreditSlots s = slots;
      s.submit((slot, seq) -> begin(o, s, slot, seq));
    } else {
      begin(o, null, -1, 0);
    }
  }

  /**
   * Whether a request must wait until the session has taken its state back after a restart: all but
   * the reclaim itself and the ones about the session alone (a renewal keeps the new session alive
   * meanwhile; a destroy ends it).
   */
  private static boolean waitsForReclaim(Opcode op) {
    return !op.reclaims() && op != Opcode.SESSION_RENEW && op != Opcode.SESSION_DESTROY;
  }

  /** @param from the slots that gave {@code slot}, null for an unsequenced request */
  private void begin(Outstanding o, CreditSlots from, int slot, int sequence) {
    if (onReceiveThread.get()) {
      try {
        sender.execute(() -> begin(o, from, slot, sequence));
        return;
      } catch (RejectedExecutionException e) {
        // The session is closing: fall through and fail it below.
      }
    }
    DafsException d = dead;
    if (d != null) {
      if (slot >= 0) {
        from.release(slot);
      }
      o.result.completeExceptionally(d);
      return;
    }
    connectionLock.readLock().lock();
    try {
      if ((from != null && from != slots) || (recovering && waitsForReclaim(o.op))) {
        // A slot of the session from before a restart (it waited for one, or the sender thread held
        // it up), or a request that must now wait for the reclaim: it starts again.
        if (from == slots && slot >= 0) {
          from.release(slot);
        }
        start(o);
        return;
      }
      o.slot = slot;
      o.sentAt = System.nanoTime();
      o.encoded = Codec.encode(FrameHeader.request(o.op, o.id, sessionId, slot, sequence), o.body);
      outstanding.put(o.id, o);
      Connection c = connection;
      if (c != null) {
        c.send(o.encoded);
        o.transmitted = true;
        sent.increment();
      }
    } catch (IOException e) {
      // The connection is gone; the reconnect sends every outstanding request again.
      log.debug("send of {} failed, waiting for the reconnect", o.op, e);
    } finally {
      connectionLock.readLock().unlock();
    }
  }

  private void retransmit(Outstanding o) {
    connectionLock.readLock().lock();
    try {
      Connection c = connection;
      if (c != null && outstanding.get(o.id) == o) {
        c.send(o.encoded);
        o.transmitted = true;
        sent.increment();
        retransmissions.increment();
      }
    } catch (IOException e) {
      log.debug("retransmission of {} failed, waiting for the reconnect", o.op, e);
    } finally {
      connectionLock.readLock().unlock();
    }
  }

  /** One handshake request on {@code c}, which is not (yet) the session's connection. */
  Body exchange(Connection c, Opcode op, Request body, Duration timeout) throws DafsException {
    Outstanding o = new Outstanding(nextRequestId.getAndIncrement(), op, body, c);
    // Outside a slot; the handshake's requests come before there is a session to name.
    o.encoded = Codec.encode(FrameHeader.request(op, o.id, op.beforeSession() ? 0 : sessionId, -1, 0), body);
    o.sentAt = System.nanoTime();
    outstanding.put(o.id, o);
    try {
      c.send(o.encoded);
      return o.result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (IOException e) {
      throw new DafsException(Status.CONNECTION_LOST, "during " + op, e);
    } catch (ExecutionException e) {
      throw DafsException.of(e.getCause());
    } catch (TimeoutException e) {
      throw new DafsException(Status.TIMEDOUT, "no answer to " + op + " within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DafsException(Status.IO, "interrupted during " + op);
    } finally {
      outstanding.remove(o.id, o);
    }
  }

  /** On the receive thread: a reply completes its request, a callback goes to the dispatcher. */
  void receive(Connection c, Received received) {
    // Replies and callbacks outlive this call (a waiting caller reads its data later), so they take
    // the message into memory of their own; the provider gets its buffer back at once.
    ByteBuffer message = received.detach();
    onReceiveThread.set(Boolean.TRUE);
    try {
      FrameHeader h;
      try {
        h = Codec.decodeHeader(message);
      } catch (MalformedFrameException e) {
        log.warn("closing connection to {}: malformed frame from server: {}", c.remoteAddress(), e.getMessage());
        // Before the close, which would fail them with no reason: a handshake learns that the peer
        // answered, with something that is not DAFS.
        failPinned(c, new java.net.ProtocolException("malformed frame: " + e.getMessage()));
        c.close();
        return;
      }
      if (h.kind() == FrameKind.CALLBACK) {
        callbacks.dispatch(c, h, message);
      } else if (h.kind() == FrameKind.REPLY) {
        onReply(c, h, message);
      } else {
        log.warn("ignoring a {} frame from the server", h.kind());
      }
    } finally {
      onReceiveThread.set(Boolean.FALSE);
    }
  }

  private void onReply(Connection c, FrameHeader h, ByteBuffer message) {
    Outstanding o = outstanding.get(h.requestId());
    if (o == null || (o.pinned != null && o.pinned != c)) {
      return; // a late answer to something already answered or abandoned
    }
    if (renewedLease(o, h.status())) {
      lease.heard(o.sentAt);
    }
    if (h.status() == Status.DELAY && o.slot >= 0) {
      // The server is still running the original of a retransmitted request: ask again shortly.
      long backoff = Math.min(1000, 5L << Math.min(8, o.delays++));
      timer.schedule(() -> retransmit(o), backoff, TimeUnit.MILLISECONDS);
      return;
    }
    if (!outstanding.remove(h.requestId(), o)) {
      return;
    }
    if (o.slot >= 0) {
      slots.release(o.slot);
    }
    try {
      Body body = Codec.decodeBody(h, message);
      if (h.status() == Status.OK) {
        o.result.complete(body);
        return;
      }
      DafsException failed = new DafsException(h.status(), ((Replies.Error) body).message());
      CompletableFuture<Body> instead = o.resentAfterRestart ? AcrossRestart.outcome(o, failed, this) : null;
      if (instead == null) {
        o.result.completeExceptionally(failed);
      } else {
        instead.whenComplete((b, e) -> {
          if (e == null) {
            o.result.complete(b);
          } else {
            o.result.completeExceptionally(e);
          }
        });
      }
    } catch (MalformedFrameException e) {
      o.result.completeExceptionally(new DafsException(Status.BADXDR, "malformed reply to " + o.op + ": " + e.getMessage()));
    }
  }

  /**
   * Whether the server renewed the session's lease when this request arrived, as its reply shows: it
   * renews on every request of a session it knows (DELAY included: the retransmission arrived), and a
   * bind renews it. (A create starts one too, but its reply comes before the client knows the lease it
   * was granted: the session's start counts that one, {@link ClientSession#start}.)
   */
  private static boolean renewedLease(Outstanding o, Status status) {
    if (o.pinned != null) {
      return status == Status.OK && o.op == Opcode.SESSION_BIND;
    }
    return status != Status.BADSESSION && status != Status.EXPIRED && status != Status.BADXDR;
  }

  /**
   * Makes {@code c} the session's connection and sends on it, in request-id order, every session
   * request still unanswered. A send that fails leaves {@code c} installed; its close reports the loss.
   */
  void install(Connection c) throws IOException {
    connectionLock.writeLock().lock();
    try {
      connection = c;
      if (!c.isOpen()) {
        // It closed before it was the session's, so its close was not taken for a loss: say so here,
        // or the session would sit on a dead connection with no reconnect coming.
        connection = null;
        throw new java.nio.channels.ClosedChannelException();
      }
      List<Outstanding> again = new ArrayList<>();
      for (Outstanding o : outstanding.values()) {
        if (o.pinned == null && o.encoded != null) {
          again.add(o);
        }
      }
      again.sort(Comparator.comparingLong(o -> o.id));
      for (Outstanding o : again) {
        // Counted first: the reply may complete the caller before send returns.
        sent.increment();
        retransmissions.increment();
        c.send(o.encoded);
        o.transmitted = true;
      }
    } finally {
      connectionLock.writeLock().unlock();
    }
  }

  /**
   * The server restarted, and the session is now {@code sessionId} with {@code credits}: every request
   * unanswered or waiting for a slot is held, to start again on the new slots at {@link #resume}, and
   * so is every new request that may name the session's state, until then. A reclaim still unanswered
   * (the server restarted again during it) fails: the next reclaim takes over.
   */
  void restart(long sessionId, int credits) {
    java.util.Deque<CreditSlots.Start> waiting;
    connectionLock.writeLock().lock();
    try {
      restarts++;
      recovering = true;
      this.sessionId = sessionId;
      CreditSlots old = slots;
      slots = new CreditSlots(credits);
      List<Outstanding> unanswered = new ArrayList<>();
      for (Outstanding o : outstanding.values()) {
        if (o.pinned == null) {
          unanswered.add(o);
        }
      }
      unanswered.sort(Comparator.comparingLong(o -> o.id));
      for (Outstanding o : unanswered) {
        if (!outstanding.remove(o.id, o)) {
          continue;
        }
        if (o.op.reclaims()) {
          o.result.completeExceptionally(new DafsException(Status.CONNECTION_LOST, "the server restarted again during the reclaim"));
          continue;
        }
        // Sent to the server that is gone, it may have run there: its error may say so (AcrossRestart).
        o.resentAfterRestart |= o.transmitted;
        o.transmitted = false;
        held.add(o);
      }
      waiting = old.drainWaiting();
    } finally {
      connectionLock.writeLock().unlock();
    }
    // Each finds its slot is the old session's, and is held after the unanswered ones.
    waiting.forEach(w -> w.start(-1, 0));
  }

  /** The reclaim is done: the held requests start, in order, before any made from now on. */
  void resume() {
    connectionLock.writeLock().lock();
    try {
      recovering = false;
      for (Outstanding o; (o = held.poll()) != null; ) {
        start(o);
      }
    } finally {
      connectionLock.writeLock().unlock();
    }
  }

  /** How many server restarts the session has lived through. */
  int restarts() {
    return restarts;
  }

  /**
   * {@code c} closed: the handshake requests pinned to it fail, and if it was the session's
   * connection the session has none until the next {@link #install}. Returns whether it was.
   */
  boolean lost(Connection c, Throwable cause) {
    failPinned(c, cause);
    connectionLock.writeLock().lock();
    try {
      if (connection != c) {
        return false;
      }
      connection = null;
      return true;
    } finally {
      connectionLock.writeLock().unlock();
    }
  }

  /** The handshake requests pinned to {@code c} fail with CONNECTION_LOST, caused by {@code cause} (null: a plain close). */
  private void failPinned(Connection c, Throwable cause) {
    for (Outstanding o : outstanding.values()) {
      if (o.pinned == c && outstanding.remove(o.id, o)) {
        o.result.completeExceptionally(new DafsException(Status.CONNECTION_LOST, "during " + o.op, cause));
      }
    }
  }

  /**
   * Every request, outstanding, waiting for a slot or made later, fails with {@code cause}, and the
   * connection closes. Returns false if the pipeline had already failed.
   */
  boolean fail(DafsException cause) {
    if (dead != null) {
      return false;
    }
    dead = cause;
    for (Outstanding o : outstanding.values()) {
      if (outstanding.remove(o.id, o)) {
        o.result.completeExceptionally(cause);
      }
    }
    CreditSlots s = slots;
    if (s != null) {
      s.drainWaiting().forEach(start -> start.start(-1, 0));
    }
    for (Outstanding o; (o = held.poll()) != null; ) {
      o.result.completeExceptionally(cause);
    }
    Connection c = connection;
    if (c != null) {
      c.close();
    }
    return true;
  }

  DafsException failure() {
    return dead;
  }

  boolean connected() {
    return connection != null;
  }

  /** The session's connection now, or null while it reconnects. */
  Connection connection() {
    return connection;
  }

  /** Whether this thread is a transport's receive thread, inside {@link #receive}. */
  boolean onReceiveThread() {
    return onReceiveThread.get();
  }

  long sessionId() {
    return sessionId;
  }

  CreditSlots slots() {
    return slots;
  }

  long sent() {
    return sent.sum();
  }

  long retransmissions() {
    return retransmissions.sum();
  }

  void shutdown() {
    sender.shutdownNow();
  }
}
