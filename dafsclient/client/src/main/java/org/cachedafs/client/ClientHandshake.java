package org.cachedafs.client;

import java.io.EOFException;
import java.net.ProtocolException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import org.cachedafs.protocol.Body;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Handshake;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies.Challenge;
import org.cachedafs.protocol.Replies.SessionGranted;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;

/**
 * Makes a fresh connection the session's: AUTH_INIT for the server's nonce, then SESSION_CREATE the
 * first time, SESSION_BIND after a reconnect. Each side proves itself to the other. Creating agrees a
 * session key that never crosses the wire, and binding proves that the client holds it (see {@link
 * Handshake}), so knowing a session id is not enough to take the session over.
 *
 * <p>The whole handshake on a connection has {@link ClientOptions#connectTimeout} to finish. A failure
 * names the server, and says what the peer did: a peer that closes the connection or answers AUTH_INIT
 * with something that is not DAFS fails the handshake as soon as that happens, a silent one when the
 * time is up; a refusal of the session carries the server's reason ("wrong secret", "server requires
 * a secret", "server has no secret", see docs/protocol.md §5).
 *
 * <p>The client's identity outlives its sessions: a random id chosen once here, sent (with the name)
 * in every SESSION_CREATE, which the server records before it grants anything. AUTH_INIT's reply
 * carries the server's boot verifier; a reconnect that finds another one than the session was created
 * under knows the server restarted and the session is gone, and creates a new one under the same
 * identity ({@link #resume}), in which the session then reclaims what it held.
 *
 * <p>Runs on one thread at a time: {@link DafsClient#connect} first, then the timer's reconnect.
 */
final class ClientHandshake {
  private final ClientOptions options;
  private final byte[] secret;
  private final RequestPipeline pipeline;
  /** The server as the application named it, host and port, for messages. */
  private final String server;
  private final SecureRandom random = new SecureRandom();
  /** This client's id, for all its sessions (see the class comment). */
  private final byte[] clientId = new byte[Limits.CLIENT_ID_BYTES];

  /** Written by {@link #create}; a bind proves it. */
  private volatile byte[] sessionKey;
  /** Written by {@link #create}. */
  private volatile FileHandle root;
  /** The lease asked for until {@link #create}, then as last granted (create and each bind). */
  private volatile int leaseMillis;
  /** The boot verifier of the server run the session was created in. */
  private volatile long boot;

  ClientHandshake(ClientOptions options, RequestPipeline pipeline, String server) {
    this.options = options;
    this.secret = options.secret();
    this.pipeline = pipeline;
    this.server = server;
    this.leaseMillis = (int) Math.min(Integer.MAX_VALUE, options.lease().toMillis());
    random.nextBytes(clientId);
  }

  /** The moment, on {@link System#nanoTime}'s scale, by which a handshake starting now must be done. */
  long deadline() {
    return System.nanoTime() + options.connectTimeout().toNanos();
  }

  /** Creates the session on {@code c} by {@code deadline} and opens the pipeline with what the server granted. */
  void create(Connection c, long deadline) throws DafsException {
    SessionGranted granted = create(c, challenge(c, options.clientName(), deadline), deadline);
    pipeline.open(granted.sessionId(), granted.credits());
  }

  /**
   * Makes {@code c} the session's after a reconnect, by {@code deadline}: binds it, or, if the server
   * restarted since the session was created (another boot verifier), creates a new session on it
   * under the same identity and restarts the pipeline in it ({@link RequestPipeline#restart}).
   * Returns whether it did that.
   */
  boolean resume(Connection c, long deadline) throws DafsException {
    Challenge challenge = challenge(c, options.clientName(), deadline);
    if (challenge.boot() == boot) {
      bind(c, challenge, deadline);
      return false;
    }
    SessionGranted granted = create(c, challenge, deadline);
    pipeline.restart(granted.sessionId(), granted.credits());
    return true;
  }

  private SessionGranted create(Connection c, Challenge challenge, long deadline) throws DafsException {
    String name = options.clientName();
    byte[] serverNonce = challenge.serverNonce();
    byte[] clientNonce = Handshake.nonce(random);
    KeyPair ephemeral = Handshake.ephemeral();
    byte[] clientShare = Handshake.share(ephemeral);
    byte[] proof = Handshake.clientProof(secret, serverNonce, clientNonce, name, clientShare, clientId);
    SessionGranted granted = (SessionGranted) exchange(c, Opcode.SESSION_CREATE,
        new Requests.SessionCreate(clientNonce, clientShare, proof, Math.min(options.credits(), Limits.MAX_CREDITS), leaseMillis, clientId), deadline);
    byte[] expected = Handshake.serverProof(secret, serverNonce, clientNonce, name, clientShare, granted.serverShare());
    if (!Handshake.matches(expected, granted.serverProof())) {
      throw new DafsException(Status.AUTH_FAILED, server + " did not prove it knows the secret");
    }
    byte[] agreed;
    try {
      agreed = Handshake.agree(ephemeral, granted.serverShare());
    } catch (IllegalArgumentException e) {
      throw new DafsException(Status.AUTH_FAILED, server + " sent an unusable key share: " + e.getMessage());
    }
    sessionKey = Handshake.sessionKey(secret, agreed, serverNonce, clientNonce, name);
    root = granted.root();
    leaseMillis = granted.leaseMillis();
    boot = challenge.boot();
    return granted;
  }

  /** Binds {@code c} to the session {@link #create} made, by {@code deadline} (a connection the session moves to). */
  void bind(Connection c, long deadline) throws DafsException {
    Challenge challenge = challenge(c, options.clientName(), deadline);
    if (challenge.boot() != boot) {
      // Not the server the session lives in: the next reconnect finds out and starts again there.
      throw new DafsException(Status.CONNECTION_LOST, server + " restarted before the session could bind there");
    }
    bind(c, challenge, deadline);
  }

  private void bind(Connection c, Challenge challenge, long deadline) throws DafsException {
    byte[] serverNonce = challenge.serverNonce();
    byte[] clientNonce = Handshake.nonce(random);
    byte[] key = sessionKey;
    long sessionId = pipeline.sessionId();
    SessionGranted granted = (SessionGranted) exchange(c, Opcode.SESSION_BIND,
        new Requests.SessionBind(sessionId, clientNonce, Handshake.bindProof(key, serverNonce, clientNonce, sessionId)), deadline);
    if (!Handshake.matches(Handshake.boundProof(key, serverNonce, clientNonce, sessionId), granted.serverProof())
        || granted.sessionId() != sessionId) {
      throw new DafsException(Status.AUTH_FAILED, server + " did not prove it holds this session's key");
    }
    leaseMillis = granted.leaseMillis();
  }

  /**
   * AUTH_INIT: the server's nonce, which both proofs cover so that neither can be replayed, and its
   * boot verifier. This is the first thing the peer is asked, so it is where a peer that is not a DAFS
   * server shows itself.
   */
  private Challenge challenge(Connection c, String name, long deadline) throws DafsException {
    try {
      return (Challenge) pipeline.exchange(c, Opcode.AUTH_INIT, new Requests.AuthInit(name), left(deadline));
    } catch (DafsException e) {
      if (e.status() == Status.CONNECTION_LOST) {
        Throwable cause = e.getCause();
        if (cause instanceof ProtocolException || cause instanceof EOFException) {
          throw new DafsException(Status.CONNECTION_LOST, server + " is not a DAFS server: it answered the handshake with something else ("
              + cause.getMessage() + ")", e);
        }
        // Closed or reset: a DAFS server does that to a client it refuses before any answer (one without
        // a secret refuses all but loopback clients; one whose connections are all in use, the new one).
        throw new DafsException(Status.CONNECTION_LOST, server + " closed the connection during the handshake: it is not a DAFS server, "
            + "or it refused this client (the server's log says why)", e);
      }
      if (e.status() == Status.TIMEDOUT) {
        throw new DafsException(Status.TIMEDOUT, server + " did not answer the handshake within " + Durations.text(options.connectTimeout())
            + ": it is not a DAFS server, or it is overloaded", e);
      }
      throw e;
    }
  }

  /** A request of the handshake after AUTH_INIT: a refusal carries the server's reason, and names the server. */
  private Body exchange(Connection c, Opcode op, Requests.Request body, long deadline) throws DafsException {
    try {
      return pipeline.exchange(c, op, body, left(deadline));
    } catch (DafsException e) {
      String why = switch (e.status()) {
        case CONNECTION_LOST -> " closed the connection during " + op;
        case TIMEDOUT -> " did not answer " + op + " within " + Durations.text(options.connectTimeout());
        default -> " refused the session: " + e.detail();
      };
      throw new DafsException(e.status(), server + why, e);
    }
  }

  /** What is left of the time to {@code deadline}; none once it has passed. */
  static Duration left(long deadline) {
    return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
  }

  FileHandle root() {
    return root;
  }

  int leaseMillis() {
    return leaseMillis;
  }
}
