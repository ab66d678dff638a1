package org.cachedafs.client;

import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
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
 * <p>The client's identity outlives its sessions: a random id chosen once here, sent (with the name)
 * in every SESSION_CREATE, which the server records before it grants anything. AUTH_INIT's reply
 * carries the server's boot verifier; a reconnect that finds another one than the session was created
 * under knows the server restarted and the session is gone, and creates a new one under the same
 * identity ({@link #resume}), in which the session then reclaims what it held.
 *
 * <p>Runs on one thread at a time: {@link DafsClient#connect} first, then the timer's reconnect.
 */
final class ClientHandshake {
  /** How long each handshake request waits for its answer. */
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final ClientOptions options;
  private final byte[] secret;
  private final RequestPipeline pipeline;
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

  ClientHandshake(ClientOptions options, RequestPipeline pipeline) {
    this.options = options;
    this.secret = options.secret();
    this.pipeline = pipeline;
    this.leaseMillis = (int) Math.min(Integer.MAX_VALUE, options.lease().toMillis());
    random.nextBytes(clientId);
  }

  /** Creates the session on {@code c} and opens the pipeline with what the server granted. */
  void create(Connection c) throws DafsException {
    Challenge challenge = challenge(c, options.clientName());
    SessionGranted granted = create(c, challenge);
    pipeline.open(granted.sessionId(), granted.credits());
  }

  /**
   * Makes {@code c} the session's after a reconnect: binds it, or, if the server restarted since the
   * session was created (another boot verifier), creates a new session on it under the same identity
   * and restarts the pipeline in it ({@link RequestPipeline#restart}). Returns whether it did that.
   */
  boolean resume(Connection c) throws DafsException {
    Challenge challenge = challenge(c, options.clientName());
    if (challenge.boot() == boot) {
      bind(c, challenge);
      return false;
    }
    SessionGranted granted = create(c, challenge);
    pipeline.restart(granted.sessionId(), granted.credits());
    return true;
  }

  private SessionGranted create(Connection c, Challenge challenge) throws DafsException {
    String name = options.clientName();
    byte[] serverNonce = challenge.serverNonce();
    byte[] clientNonce = Handshake.nonce(random);
    KeyPair ephemeral = Handshake.ephemeral();
    byte[] clientShare = Handshake.share(ephemeral);
    byte[] proof = Handshake.clientProof(secret, serverNonce, clientNonce, name, clientShare, clientId);
    SessionGranted granted = (SessionGranted) pipeline.exchange(c, Opcode.SESSION_CREATE,
        new Requests.SessionCreate(clientNonce, clientShare, proof, Math.min(options.credits(), Limits.MAX_CREDITS), leaseMillis, clientId), TIMEOUT);
    byte[] expected = Handshake.serverProof(secret, serverNonce, clientNonce, name, clientShare, granted.serverShare());
    if (!Handshake.matches(expected, granted.serverProof())) {
      throw new DafsException(Status.AUTH_FAILED, "the server did not prove it knows the secret");
    }
    byte[] agreed;
    try {
      agreed = Handshake.agree(ephemeral, granted.serverShare());
    } catch (IllegalArgumentException e) {
      throw new DafsException(Status.AUTH_FAILED, "the server's key share is unusable: " + e.getMessage());
    }
    sessionKey = Handshake.sessionKey(secret, agreed, serverNonce, clientNonce, name);
    root = granted.root();
    leaseMillis = granted.leaseMillis();
    boot = challenge.boot();
    return granted;
  }

  /** Binds {@code c} to the session {@link #create} made (a connection the session moves to). */
  void bind(Connection c) throws DafsException {
    Challenge challenge = challenge(c, options.clientName());
    if (challenge.boot() != boot) {
      // Not the server the session lives in: the next reconnect finds out and starts again there.
      throw new DafsException(Status.CONNECTION_LOST, "the server restarted before the session could bind there");
    }
    bind(c, challenge);
  }

  private void bind(Connection c, Challenge challenge) throws DafsException {
    byte[] serverNonce = challenge.serverNonce();
    byte[] clientNonce = Handshake.nonce(random);
    byte[] key = sessionKey;
    long sessionId = pipeline.sessionId();
    SessionGranted granted = (SessionGranted) pipeline.exchange(c, Opcode.SESSION_BIND,
        new Requests.SessionBind(sessionId, clientNonce, Handshake.bindProof(key, serverNonce, clientNonce, sessionId)), TIMEOUT);
    if (!Handshake.matches(Handshake.boundProof(key, serverNonce, clientNonce, sessionId), granted.serverProof())
        || granted.sessionId() != sessionId) {
      throw new DafsException(Status.AUTH_FAILED, "the server did not prove it holds this session's key");
    }
    leaseMillis = granted.leaseMillis();
  }

  /** AUTH_INIT: the server's nonce, which both proofs cover so that neither can be replayed, and its boot verifier. */
  private Challenge challenge(Connection c, String name) throws DafsException {
    return (Challenge) pipeline.exchange(c, Opcode.AUTH_INIT, new Requests.AuthInit(name), TIMEOUT);
  }

  FileHandle root() {
    return root;
  }

  int leaseMillis() {
    return leaseMillis;
  }
}
