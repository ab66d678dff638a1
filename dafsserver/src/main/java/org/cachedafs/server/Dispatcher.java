package org.cachedafs.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Body;
import org.cachedafs.protocol.Codec;
import org.cachedafs.protocol.FrameHeader;
import org.cachedafs.protocol.FrameKind;
import org.cachedafs.protocol.Handshake;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.MalformedFrameException;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.ConnectionHandler;
import org.slf4j.Logger;

/**
 * Turns received frames into operations and their results into replies.
 *
 * <p>On the receive thread: decode the header (a bad one closes the connection), decode the body (a
 * bad one gets BADXDR), run the handshake, check the session and the slot. Operations then run on the
 * worker pool, and their reply goes to the session's current connection, which after a reconnect is
 * not the one the request came in on.
 */
final class Dispatcher implements ConnectionHandler {
  private static final Logger log = Loggers.get(Dispatcher.class);

  private final ServerOptions options;
  private final SessionTable sessions;
  private final Export export;
  private final NamespaceOps namespace;
  private final DataOps data;
  private final Delegations delegations;
  private final ExecutorService workers;
  private final ScheduledExecutorService housekeeping;
  private final SecureRandom random;
  private final Admission admission;
  private final TransportOffers offers;
  private final ClientRecords records;
  private final Grace grace;
  /** This run's boot verifier, in every AUTH_INIT reply: a client that sees another one knows the server restarted. */
  private final long boot;
  final LongAdder executed = new LongAdder();
  final LongAdder replayed = new LongAdder();
  final LongAdder malformed = new LongAdder();
  final LongAdder authFailures = new LongAdder();
  final LongAdder refused = new LongAdder();

  Dispatcher(ServerOptions options, SessionTable sessions, Export export, NamespaceOps namespace, DataOps data,
      Delegations delegations, ExecutorService workers, ScheduledExecutorService housekeeping, SecureRandom random,
      Admission admission, TransportOffers offers, ClientRecords records, Grace grace) {
    this.records = records;
    this.grace = grace;
    long b;
    do {
      b = random.nextLong();
    } while (b == 0);
    this.boot = b;
    this.admission = admission;
    this.offers = offers;
    this.delegations = delegations;
    this.options = options;
    this.sessions = sessions;
    this.export = export;
    this.namespace = namespace;
    this.data = data;
    this.workers = workers;
    this.housekeeping = housekeeping;
    this.random = random;
  }

  /**
   * A transport that shares memory as soon as it accepts (shm) asks here first: only a client that
   * holds a session, and got this credential over it, is let in.
   */
  @Override
  public boolean admit(byte[] credential) {
    return offers.admit(credential);
  }

  @Override
  public void onOpen(Connection c) {
    if (!options.hasSecret() && !c.peerIsLocal()) {
      refused.increment();
      log.warn("refusing {}: without a secret this server serves loopback clients only", c.remoteAddress());
      c.close();
      return;
    }
    if (!admission.admit(c)) {
      log.debug("refusing {}: the server holds its limit of {} connections, all with sessions", c.remoteAddress(),
          options.limits().maxConnections());
      c.close();
      return;
    }
    Peer peer = new Peer();
    c.attach(peer);
    peer.handshakeDeadline = housekeeping.schedule(() -> {
      if (peer.session == null && c.isOpen()) {
        log.debug("closing {}: no session within {} ms", c.remoteAddress(), options.handshakeTimeout().toMillis());
        c.close();
      }
    }, options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void onClosed(Connection c, Throwable cause) {
    if (c.attachment() instanceof Peer peer) {
      admission.closed(c);
      java.util.concurrent.ScheduledFuture<?> deadline = peer.handshakeDeadline;
      if (deadline != null) {
        deadline.cancel(false); // else a flood of connections stays reachable until each one's deadline
      }
      ServerSession s = peer.session;
      if (s != null) {
        // The session outlives the connection until its lease runs out (or a full table ends it first).
        s.connectionClosed(c, System.nanoTime());
      }
    }
  }

  @Override
  public void onMessage(Connection c, Received received) {
    if (!(c.attachment() instanceof Peer peer) || peer.refused) {
      received.release();
      return;
    }
    // A request's body (an inline write's data) lives until a worker has run it, so it is taken into
    // memory of the server's own; the provider gets its receive buffer back at once.
    ByteBuffer message = received.detach();
    if (peer.session == null && ++peer.framesWithoutSession > MAX_FRAMES_WITHOUT_SESSION) {
      // A handshake takes two or three frames: a connection that keeps talking without a session is
      // making the server answer for nothing (challenges, BADSESSION), so it goes.
      peer.refused = true;
      malformed.increment();
      log.debug("closing {}: {} frames without a session", c.remoteAddress(), MAX_FRAMES_WITHOUT_SESSION);
      c.close();
      return;
    }
    FrameHeader h;
    try {
      h = Codec.decodeHeader(message);
    } catch (MalformedFrameException e) {
      malformed.increment();
      log.debug("closing {}: {}", c.remoteAddress(), e.getMessage());
      c.close();
      return;
    }
    if (h.kind() != FrameKind.REQUEST) {
      if (h.kind() != FrameKind.CALLBACK_REPLY) {
        malformed.increment();
        c.close();
      }
      return;
    }
    Opcode op = h.op();
    if (op == null || op.isCallback()) {
      malformed.increment();
      reply(c, h, Status.NOTSUPP, "unknown opcode " + h.opcode());
      return;
    }
    Body body;
    MalformedFrameException poison = null;
    try {
      body = Codec.decodeBody(h, message);
    } catch (MalformedFrameException e) {
      malformed.increment();
      if (!op.sequenced() || op.beforeSession()) {
        reply(c, h, Status.BADXDR, e.getMessage());
        return;
      }
      // A sequenced request still takes its place in its slot (below), so that its sequence number
      // is used up like any other's and the session goes on: a bad body is the request's error.
      body = null;
      poison = e;
    }
    if (op.beforeSession()) {
      handshake(c, peer, h, op, body);
      return;
    }
    ServerSession s = peer.session;
    if (s == null || s.ended() || h.sessionId() != s.id()) {
      if (poison != null) {
        reply(c, h, Status.BADXDR, poison.getMessage());
      } else {
        reply(c, h, Status.BADSESSION, s == null ? "this connection has no session" : "the frame names another session");
      }
      return;
    }
    if (s.renew(System.nanoTime(), delegations)) {
      log.info("{} was heard from again: an ordinary session once more", s);
    }
    if (!op.sequenced()) {
      if (op == Opcode.DELEGRETURN) {
        // Unsequenced, so a return never waits for a credit held by requests that wait on a recall.
        try {
          data.returnDelegation((Requests.Delegation) body, s);
          reply(c, h, Status.OK, (String) null);
        } catch (OpException e) {
          reply(c, h, e.status(), e.getMessage());
        }
        return;
      }
      if (op == Opcode.SESSION_RENEW) {
        reply(c, h, Status.OK, new Replies.Renewed(s.revokedDelegations()));
        return;
      }
      if (op == Opcode.TRANSPORT_OFFERS) {
        reply(c, h, Status.OK, new Replies.Offers(offers.offer(s.id(), c)));
        return;
      }
      if (op == Opcode.RECLAIM_COMPLETE) {
        grace.completed(s, System.nanoTime());
        reply(c, h, Status.OK, (String) null);
        return;
      }
      if (op == Opcode.SESSION_DESTROY) {
        if (sessions.remove(s)) {
          records.release(s.identity()); // the client let go of everything: nothing to reclaim after a restart
        }
        ByteBuffer done = Codec.encode(h.reply(Status.OK), Replies.Empty.INSTANCE);
        offReceiveThread(() -> {
          sendNow(c, done);
          s.end(export.handles(), delegations);
        });
      } else {
        reply(c, h, Status.OK, (String) null);
      }
      return;
    }
    ReplySlot slot = s.slot(h.slot());
    if (slot == null) {
      reply(c, h, poison != null ? Status.BADXDR : Status.BADSLOT,
          poison != null ? poison.getMessage() : "slot " + h.slot() + " outside the " + s.credits() + " granted");
      return;
    }
    if (poison != null) {
      answerPoison(c, h, op, slot, poison);
      return;
    }
    switch (slot.admit(h.sequence(), op)) {
      case MISORDERED -> reply(c, h, Status.SEQ_MISORDERED, "slot " + h.slot() + " sequence " + h.sequence());
      case DELAY -> reply(c, h, Status.DELAY, (String) null);
      case REPLAY -> {
        replayed.increment();
        send(c, Codec.withRequestId(slot.cachedReply(), h.requestId()));
      }
      case EXECUTE -> {
        if (answeredInline(c, op, body) && s.connection() == c && s.runQueue().tryClaimInline()) {
          // A cheap request is answered here, on the receive thread, without the hand-off to a worker:
          // sending never waits for the peer (the transport queues), and these touch nothing that
          // waits on this connection's own receive thread (a one-sided transfer only where it is a
          // copy made by this thread).
          try {
            run(s, c, slot, h, op, body);
          } finally {
            s.runQueue().inlineDone();
          }
        } else {
          Body decoded = body;
          s.runQueue().submit(() -> run(s, c, slot, h, op, decoded));
        }
      }
    }
  }

  /** The most frames a connection may send before it has a session (a handshake needs two or three). */
  static final int MAX_FRAMES_WITHOUT_SESSION = 16;

  /** The most bytes an inline READ may ask for to be answered on the receive thread. */
  private static final int INLINE_READ_BYTES = 64 * 1024;

  /**
   * Whether a request is cheap enough to be answered on the receive thread: a small READ, a GETATTR
   * or a LOOKUP, the requests whose latency the round trip is made of, and over a transport whose
   * one-sided transfers are done when the call returns (shm) a small direct read too, whose transfer
   * is then a copy this thread makes. Each is a few system calls on files the kernel usually has
   * cached (one that is not reads the disk here, holding this connection's other requests as long);
   * none waits on the peer (a recall makes it wait off-thread, as any operation does). Over tcp, and
   * any transport whose transfers complete later, a direct read stays with the workers: it would
   * wait for the completion.
   */
  private boolean answeredInline(Connection c, Opcode op, Body body) {
    if (!options.limits().inlineAnswers()) {
      return false;
    }
    return switch (op) {
      case GETATTR, LOOKUP -> true;
      case READ -> ((Requests.Read) body).length() <= INLINE_READ_BYTES;
      case READ_DIRECT -> c.capabilities().oneSidedDoneOnReturn() && ((Requests.Direct) body).length() <= INLINE_READ_BYTES;
      case READ_DIRECT_V -> c.capabilities().oneSidedDoneOnReturn() && ((Requests.DirectV) body).length() <= INLINE_READ_BYTES;
      default -> false;
    };
  }

  /**
   * A sequenced request whose body did not decode. If it is its slot's next request it uses up the
   * sequence number and its BADXDR reply is kept like any reply; a retransmission of it gets the same
   * answer; anything else is answered BADXDR and leaves the slot as it was.
   */
  private void answerPoison(Connection c, FrameHeader h, Opcode op, ReplySlot slot, MalformedFrameException poison) {
    ByteBuffer bad = Codec.encode(h.reply(Status.BADXDR), new Replies.Error(poison.getMessage()));
    switch (slot.admit(h.sequence(), op)) {
      case EXECUTE -> {
        slot.finish(op, bad);
        send(c, bad);
      }
      case REPLAY -> {
        replayed.increment();
        send(c, Codec.withRequestId(slot.cachedReply(), h.requestId()));
      }
      default -> send(c, bad);
    }
  }

  /**
   * Runs a request that arrived on {@code arrived} and answers it on the session's connection.
   *
   * <p>A one-sided request is run only while the session is still on the connection it arrived on:
   * its descriptors name memory the client exposed to that connection, and after a reconnect the new
   * connection may not know them yet (the client announces them as it settles). Such a request is
   * abandoned unanswered, and the client sends it again on the connection it is now on. A BAD_REGION
   * met after the session moved is abandoned the same way: it says nothing about the request, and the
   * reply cache would keep it for the retransmission.
   */
  private void run(ServerSession s, Connection arrived, ReplySlot slot, FrameHeader h, Opcode op, Body body) {
    if (s.ended()) {
      slot.abandon(); // the session is gone (destroyed, expired) while this waited: nobody to answer
      return;
    }
    if (op.oneSided() && s.connection() != arrived) {
      log.debug("{} from {} not run: it arrived on a connection the session has left", op, s);
      slot.abandon();
      return;
    }
    Status status = Status.OK;
    Body result;
    try {
      result = execute(s, op, body);
      executed.increment();
    } catch (TransferInterrupted e) {
      log.debug("{} from {} not answered: {}", op, s, e.getMessage());
      slot.abandon();
      return;
    } catch (RecallPending e) {
      // Nothing was done; run the whole operation again once the recall resolves. The slot stays
      // busy meanwhile, so a retransmission gets DELAY.
      e.resolved.thenRun(() -> offReceiveThread(() -> {
        try {
          run(s, arrived, slot, h, op, body);
        } finally {
          if (e.file != null) {
            delegations.waitOver(e.file, s);
          }
        }
      }));
      return;
    } catch (OpException e) {
      if (e.status() == Status.BAD_REGION && s.connection() != arrived) {
        log.debug("{} from {} not answered: the session moved during it ({})", op, s, e.getMessage());
        slot.abandon();
        return;
      }
      status = e.status();
      result = new Replies.Error(e.getMessage());
    } catch (IOException e) {
      status = IoErrors.status(e);
      result = new Replies.Error(IoErrors.reason(e));
    } catch (RuntimeException e) {
      log.error("{} from {} failed", op, s, e);
      status = Status.SERVERFAULT;
      // Not its message, which may name the server's files: the log above has it all.
      result = new Replies.Error("an unexpected " + e.getClass().getSimpleName() + " on the server; its log has the details");
    }
    ByteBuffer reply = Codec.encode(h.reply(status), result);
    if (status == Status.DELAY) {
      slot.abandon(); // nothing was done: the client's retransmission runs it again
    } else {
      slot.finish(op, reply);
    }
    Connection c = s.connection();
    if (c != null) {
      sendNow(c, reply);
    }
  }

  private Body execute(ServerSession s, Opcode op, Body body) throws OpException, IOException, TransferInterrupted, RecallPending {
    Replies.Empty ok = Replies.Empty.INSTANCE;
    switch (op) {
      case OPEN, LOCK, SETATTR, REMOVE, RENAME -> grace.checkNew(op, System.nanoTime());
      case OPEN_RECLAIM, LOCK_RECLAIM -> grace.checkReclaim(s, System.nanoTime());
      default -> { }
    }
    switch (op) {
      case LOOKUP: return namespace.lookup((Requests.Lookup) body);
      case GETATTR: return namespace.getattr((Requests.HandleArg) body, s);
      case SETATTR: return namespace.setattr((Requests.SetAttr) body, s);
      case CREATE: return namespace.create((Requests.Entry) body);
      case MKDIR: return namespace.mkdir((Requests.Entry) body);
      case REMOVE: namespace.remove((Requests.Entry) body, s); return ok;
      case RMDIR: namespace.rmdir((Requests.Entry) body); return ok;
      case RENAME: namespace.rename((Requests.Rename) body, s); return ok;
      case READDIR: return namespace.readdir((Requests.ReadDir) body);
      case STATFS: return namespace.statfs((Requests.HandleArg) body);
      case FSYNC: namespace.fsync((Requests.HandleArg) body); return ok;
      case OPEN: return data.open((Requests.Open) body, s);
      case CLOSE: data.close((Requests.StateArg) body, s); return ok;
      case READ: return data.read((Requests.Read) body, s);
      case WRITE: return data.write((Requests.Write) body, s);
      case READ_DIRECT: return data.readDirect((Requests.Direct) body, s);
      case READ_DIRECT_V: return data.readDirectV((Requests.DirectV) body, s);
      case REFERENCES: return data.references((Requests.ReferenceRange) body, s);
      case WRITE_DIRECT: return data.writeDirect((Requests.Direct) body, s);
      case LOCK: data.lock((Requests.Lock) body, s); return ok;
      case LOCKT: return data.testLock((Requests.Lock) body, s);
      case LOCKU: data.unlock((Requests.Lock) body, s); return ok;
      case OPEN_RECLAIM: return data.reclaimOpen((Requests.Reclaim) body, s, grace);
      case LOCK_RECLAIM: data.reclaimLock((Requests.Lock) body, s, grace); return ok;
      default: throw new OpException(Status.NOTSUPP, op + " is not a session operation");
    }
  }

  // --- handshake -------------------------------------------------------------------------------

  private void handshake(Connection c, Peer peer, FrameHeader h, Opcode op, Body body) {
    synchronized (peer) {
      if (op == Opcode.AUTH_INIT) {
        peer.serverNonce = Handshake.nonce(random);
        peer.clientName = ((Requests.AuthInit) body).clientName();
        reply(c, h, Status.OK, new Replies.Challenge(peer.serverNonce, boot));
        return;
      }
      byte[] serverNonce = peer.serverNonce;
      peer.serverNonce = null;
      if (serverNonce == null) {
        reply(c, h, Status.AUTH_FAILED, "no challenge on this connection: send AUTH_INIT first");
        return;
      }
      if (peer.session != null) {
        reply(c, h, Status.INVAL, "this connection already has a session");
        return;
      }
      if (op == Opcode.SESSION_CREATE) {
        createSession(c, peer, h, (Requests.SessionCreate) body, serverNonce);
      } else {
        bindSession(c, peer, h, (Requests.SessionBind) body, serverNonce);
      }
    }
  }

  /** Guarded by peer. */
  private void createSession(Connection c, Peer peer, FrameHeader h, Requests.SessionCreate r, byte[] serverNonce) {
    byte[] secret = options.secret();
    byte[] proof = Handshake.clientProof(secret, serverNonce, r.clientNonce(), peer.clientName, r.clientShare(), r.clientId());
    if (!Handshake.matches(proof, r.proof())) {
      refuse(c, peer, h, secretRefusal(serverNonce, r, peer.clientName));
      return;
    }
    KeyPair ephemeral = Handshake.ephemeral();
    byte[] serverShare = Handshake.share(ephemeral);
    byte[] agreed;
    try {
      agreed = Handshake.agree(ephemeral, r.clientShare());
    } catch (IllegalArgumentException e) {
      refuse(c, peer, h, "unusable key share");
      return;
    }
    int credits = Math.min(r.credits(), options.maxCredits());
    byte[] key = Handshake.sessionKey(secret, agreed, serverNonce, r.clientNonce(), peer.clientName);
    ClientIdentity identity = ClientIdentity.of(r.clientId(), peer.clientName);
    try {
      // On the disk before the client can hold anything, so that a restart lets it reclaim. A few
      // milliseconds on this receive thread, once per new client (a client already recorded, such
      // as one coming back after a restart, writes nothing).
      records.record(identity);
    } catch (IOException e) {
      log.error("refusing a session for {}: {}", identity, e.getMessage());
      reply(c, h, Status.IO, "the server cannot record this client in its state directory, so it could not reclaim after a restart");
      return;
    }
    ServerSession s = new ServerSession(sessions.newId(), identity, key, credits, options.lease().toNanos(),
        options.limits().maxRunningPerSession(), workers, c, System.nanoTime());
    ServerSession evicted;
    try {
      evicted = sessions.addWithin(options.limits().maxSessions(), s);
    } catch (OpException e) {
      records.release(identity);
      log.debug("refusing a session for '{}' from {}: {}", peer.clientName, c.remoteAddress(), e.getMessage());
      reply(c, h, e.status(), e.getMessage());
      return;
    }
    if (evicted != null) {
      log.info("{} ended to make room for a new session: the table was full and it {}", evicted,
          evicted.courtesy() ? "was a courtesy session" : "had no connection");
      records.release(evicted.identity());
      offReceiveThread(() -> evicted.end(export.handles(), delegations));
    }
    log.debug("{} created from {} with {} credits", s, c.remoteAddress(), credits);
    peer.session = s;
    admission.authenticated(c);
    byte[] serverProof = Handshake.serverProof(secret, serverNonce, r.clientNonce(), peer.clientName, r.clientShare(), serverShare);
    reply(c, h, Status.OK, new Replies.SessionGranted(s.id(), s.credits(), (int) options.lease().toMillis(), serverShare, serverProof,
        export.handles().root().handle()));
  }

  /**
   * Guarded by peer. Binding needs the session's key, which only the client that created the session
   * has; an unknown session and a wrong proof get the same answer, so a prober learns nothing.
   */
  private void bindSession(Connection c, Peer peer, FrameHeader h, Requests.SessionBind r, byte[] serverNonce) {
    ServerSession s = sessions.get(r.sessionId());
    byte[] key = s == null ? null : s.sessionKey();
    if (s == null || s.ended() || !s.clientName().equals(peer.clientName)
        || !Handshake.matches(Handshake.bindProof(key, serverNonce, r.clientNonce(), r.sessionId()), r.proof())) {
      // The connection goes too, so every guess costs a new connection and handshake; logged at debug,
      // since a prober would otherwise choose what fills the log (the counter says how many).
      authFailures.increment();
      log.debug("refusing to bind session {} for '{}' from {}: no such session, or no proof of its key",
          Long.toHexString(r.sessionId()), peer.clientName, c.remoteAddress());
      peer.refused = true;
      sendNow(c, Codec.encode(h.reply(Status.BADSESSION),
          new Replies.Error("no such session for this client, or no proof of its key: it ended, its lease expired, or it is not yours")));
      c.closeAfterSending();
      return;
    }
    s.bind(c);
    if (s.renew(System.nanoTime(), delegations)) {
      log.info("{} bound a new connection: an ordinary session once more", s);
    }
    log.debug("{} rebound to {}", s, c.remoteAddress());
    offReceiveThread(() -> delegations.rebound(s));
    peer.session = s;
    admission.authenticated(c);
    reply(c, h, Status.OK, new Replies.SessionGranted(s.id(), s.credits(), (int) options.lease().toMillis(), new byte[Limits.KEY_SHARE_BYTES],
        Handshake.boundProof(key, serverNonce, r.clientNonce(), s.id()), export.handles().root().handle()));
  }

  /**
   * Why a SESSION_CREATE proof failed, in the words a user can act on. A proof made with no secret is
   * told apart from a wrong one by checking it under the empty secret as well. That tells a prober only
   * whether this server has a secret, which it could learn anyway: a server without one serves loopback
   * clients only, and any client without a secret is refused by one that has.
   */
  private String secretRefusal(byte[] serverNonce, Requests.SessionCreate r, String clientName) {
    if (!options.hasSecret()) {
      return "server has no secret";
    }
    byte[] withoutSecret = Handshake.clientProof(new byte[0], serverNonce, r.clientNonce(), clientName, r.clientShare(), r.clientId());
    return Handshake.matches(withoutSecret, r.proof()) ? "server requires a secret" : "wrong secret";
  }

  /** Guarded by peer. Authentication failed: the refusal is sent and the connection closed; nothing more is read. */
  private void refuse(Connection c, Peer peer, FrameHeader h, String why) {
    authFailures.increment();
    log.warn("authentication failed for '{}' from {}: {}", peer.clientName, c.remoteAddress(), why);
    peer.refused = true;
    sendNow(c, Codec.encode(h.reply(Status.AUTH_FAILED), new Replies.Error(why)));
    c.closeAfterSending(); // the refusal first: a client should learn why, not just see the connection go
  }

  /** An error reply, or with {@code message} null an empty OK (or DELAY) reply. */
  private void reply(Connection c, FrameHeader h, Status status, String message) {
    Body b = status == Status.OK ? Replies.Empty.INSTANCE : new Replies.Error(message == null ? "" : message);
    send(c, Codec.encode(h.reply(status), b));
  }

  private void reply(Connection c, FrameHeader h, Status status, Body body) {
    send(c, Codec.encode(h.reply(status), body));
  }

  /**
   * Sends a reply made on the receive thread, from it: sending never waits for the peer (the
   * transport queues what the socket does not take, within the connection's limits), and a hand-off
   * to the workers would put every tiny reply (an error, a challenge, a renewal) in their unbounded
   * queue, outside the connection's back-pressure.
   */
  private void send(Connection c, ByteBuffer frame) {
    sendNow(c, frame);
  }

  private void offReceiveThread(Runnable r) {
    try {
      workers.execute(r);
    } catch (RejectedExecutionException e) {
      log.debug("dropping a reply: the server is shutting down");
    }
  }

  private static void sendNow(Connection c, ByteBuffer frame) {
    try {
      c.send(frame);
    } catch (IOException e) {
      log.debug("reply to {} not sent: {}", c.remoteAddress(), e.toString());
    }
  }
}
