package org.cachedafs.client;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Transport;
import org.slf4j.Logger;

/**
 * The session's hold on a connection to the server: the first connect, noticing a loss, reconnecting
 * and binding within {@link ClientOptions#reconnectTimeout()}, and giving up, after which the session
 * is dead for good.
 *
 * <p>Every connection starts on the bootstrap transport (tcp): the session is created or bound
 * there. Where {@link TransportMove} allows, the session then moves to shm, and from then on its
 * memory lives in the shm domain, so every reconnect moves it again before anything is resent.
 *
 * <p>A loss is repaired on the timer thread: connect, {@link ClientHandshake#resume} (a bind), the
 * move if the session made it, then {@link RequestPipeline#install}, which resends what was
 * outstanding. Back-off doubles from 10 ms to 1 s. A server that no longer knows the session
 * (BADSESSION, EXPIRED) or fails its proof (AUTH_FAILED) ends it at once, since trying again cannot
 * help. A server that restarted (another boot verifier) gets a new session instead, which the
 * {@link Recovery} then fills with what the old one held.
 */
final class Link {
  private static final Logger log = Loggers.get(Link.class);

  private final Transport transport;
  private final SocketAddress address;
  private final MemoryDomain domain;
  private final ClientOptions options;
  private final ConnectionHandler handler;
  private final ClientHandshake handshake;
  private final RequestPipeline pipeline;
  private final CallbackDispatcher callbacks;
  private final ScheduledExecutorService timer;
  private final TransportMove move;
  private final Recovery recovery;
  private final LongAdder reconnects = new LongAdder();
  /**
   * Touched by the timer thread only: set when a reconnect found the server restarted and made a new
   * session, until that session's connection is installed and its reclaim started.
   */
  private boolean reclaimDue;
  /** When the restart was found (nanoTime), for the reclaim's duration. */
  private long restartFoundAt;
  /** Set once by {@link #open} when the session moved: its memory is then in the move's domain. */
  private volatile boolean moved;
  /**
   * Set before the session is destroyed (or a failed start cleans up) and never cleared: the server
   * closes the connection after SESSION_DESTROY, and that close must not start a reconnect.
   */
  private volatile boolean closing;

  Link(Transport transport, SocketAddress address, MemoryDomain domain, ClientOptions options, ConnectionHandler handler,
      ClientHandshake handshake, RequestPipeline pipeline, CallbackDispatcher callbacks, ScheduledExecutorService timer,
      TransportMove move, Recovery recovery) {
    this.move = move;
    this.recovery = recovery;
    this.transport = transport;
    this.address = address;
    this.domain = domain;
    this.options = options;
    this.handler = handler;
    this.handshake = handshake;
    this.pipeline = pipeline;
    this.callbacks = callbacks;
    this.timer = timer;
  }

  /**
   * Connects, creates the session, and moves it where the transport setting says; on failure the
   * link is closing and the connections closed. With {@code auto}, a move that fails at any step
   * (the offer, the connect, the bind) leaves the session on tcp, and says why at info.
   */
  void open() throws IOException {
    Connection c = null;
    Connection m = null;
    try {
      c = connect();
      long deadline = handshake.deadline();
      handshake.create(c, deadline);
      if (move.wanted()) {
        m = moveFrom(c, move.required(), deadline);
      }
      // Set before the install: a loss of m right after it must reconnect by moving again.
      moved = m != null;
      pipeline.install(m != null ? m : c);
    } catch (IOException | RuntimeException e) {
      closing = true;
      if (c != null) {
        c.close();
      }
      if (m != null) {
        m.close();
      }
      throw e;
    }
    if (m != null) {
      c.close(); // the bootstrap: the session is bound to the new connection now
      log.debug("session {} moved to {}", Long.toHexString(pipeline.sessionId()), m);
    } else {
      move.close(); // never used: its memory can never be reached over tcp
    }
  }

  /**
   * A new connection to the server. The JDK's reasons ("Connection refused", or an UnknownHostException
   * with no message at all) do not say where to: these name the server, keeping the exception's kind.
   */
  private Connection connect() throws IOException {
    if (address instanceof InetSocketAddress i && i.isUnresolved()) {
      throw new UnknownHostException("cannot connect to " + name(address) + ": unknown host");
    }
    try {
      return transport.connect(address, domain, handler);
    } catch (ConnectException e) {
      throw named(new ConnectException(cannotConnect(e)), e);
    } catch (SocketTimeoutException e) {
      throw named(new SocketTimeoutException(cannotConnect(e)), e);
    } catch (IOException e) {
      throw new IOException(cannotConnect(e), e);
    }
  }

  private String cannotConnect(IOException e) {
    return "cannot connect to " + name(address) + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
  }

  private static <E extends IOException> E named(E named, IOException cause) {
    named.initCause(cause);
    return named;
  }

  /** The server as the application named it (a host name stays a name): {@code host:port}. */
  static String name(SocketAddress address) {
    if (address instanceof InetSocketAddress i) {
      String host = i.getHostString();
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + i.getPort();
    }
    return String.valueOf(address);
  }

  /**
   * Moves the session bound on {@code bootstrap} to shm: a connection bound to it, or null if that
   * cannot be done and {@code required} is false (then why is logged).
   *
   * @throws DafsException if it cannot be done and {@code required}, saying why
   */
  private Connection moveFrom(Connection bootstrap, boolean required, long deadline) throws DafsException {
    Connection m = null;
    try {
      m = move.connect(bootstrap, pipeline, handler, server(), required, ClientHandshake.left(deadline));
      if (m != null) {
        handshake.bind(m, deadline);
      }
      return m;
    } catch (DafsException e) {
      if (m != null) {
        m.close();
      }
      if (required) {
        throw e.getMessage() != null && e.getMessage().startsWith("transport=shm") ? e
            : new DafsException(e.status(), "transport=shm: moving the session to the server's shm endpoint failed: " + e.getMessage(), e);
      }
      log.info("session {} stays on tcp: moving it to shm failed: {}", Long.toHexString(pipeline.sessionId()), e.getMessage());
      return null;
    }
  }

  /** The domain the session's regions live in: the moved-to transport's, or the bootstrap's. */
  MemoryDomain domain() {
    return moved ? move.domain() : domain;
  }

  /** Whether the session moved off its bootstrap transport. */
  boolean moved() {
    return moved;
  }

  private String server() {
    return transport.formatAddress(address);
  }

  /** Marks the link closing; false if it already was. */
  boolean beginClosing() {
    if (closing) {
      return false;
    }
    closing = true;
    return true;
  }

  boolean closing() {
    return closing;
  }

  void onClosed(Connection c, Throwable cause) {
    if (!pipeline.lost(c, cause) || closing || pipeline.failure() != null) {
      return;
    }
    log.info("connection to {} lost ({}); reconnecting", address, cause == null ? "closed" : cause.toString());
    timer.execute(this::reconnect);
  }

  private void reconnect() {
    long deadline = System.nanoTime() + options.reconnectTimeout().toNanos();
    long backoff = 10;
    DafsException last = null;
    while (!closing && System.nanoTime() < deadline) {
      if (pipeline.connected()) {
        return; // another reconnect (queued by a second loss) has done it
      }
      Connection c = null;
      Connection data = null;
      try {
        c = connect();
        long handshakeDeadline = handshake.deadline();
        long old = pipeline.sessionId();
        if (handshake.resume(c, handshakeDeadline)) {
          reclaimDue = true;
          restartFoundAt = System.nanoTime();
          log.info("the server at {} restarted: session {} is gone; reclaiming its state in new session {}", address, Long.toHexString(old),
              Long.toHexString(pipeline.sessionId()));
        }
        // A moved session's memory is in the shm domain, which tcp cannot reach: it must move again
        // before anything is resent (the server abandons, without answering, a direct request it
        // would have to run over this bootstrap meanwhile; see DataOps).
        data = moved ? moveFrom(c, true, handshakeDeadline) : c;
        // Counted before the resend: a caller whose retried request completes sees the reconnect.
        reconnects.increment();
        pipeline.install(data);
        if (data != c) {
          c.close();
        }
        log.info("reconnected to {} and bound session {}{}", address, Long.toHexString(pipeline.sessionId()), moved ? " (on shm)" : "");
        if (reclaimDue) {
          reclaimDue = false;
          recovery.start(restartFoundAt);
        }
        return;
      } catch (DafsException e) {
        close(c, data);
        if (e.status() == Status.BADSESSION || e.status() == Status.EXPIRED || e.status() == Status.AUTH_FAILED) {
          die(new DafsException(e.status(), "the session could not be resumed after a reconnect", e));
          return;
        }
        last = e;
      } catch (IOException e) {
        close(c, data);
        last = new DafsException(Status.CONNECTION_LOST, e.toString(), e);
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        return;
      }
      backoff = Math.min(1000, backoff * 2);
    }
    if (!closing && !pipeline.connected()) {
      die(new DafsException(Status.CONNECTION_LOST, "no reconnect to " + address + " within " + options.reconnectTimeout(), last));
    }
  }

  /** Closes what a failed reconnect attempt opened; a half-installed connection's loss is then seen. */
  private static void close(Connection c, Connection data) {
    if (data != null && data != c) {
      data.close();
    }
    if (c != null) {
      c.close();
    }
  }

  /** The session cannot go on: every request, outstanding or waiting, fails with {@code cause}. */
  void die(DafsException cause) {
    if (!pipeline.fail(cause) || closing) {
      return;
    }
    log.warn("session {} with {} failed: {}", Long.toHexString(pipeline.sessionId()), address, cause.getMessage());
    callbacks.sessionLost(cause);
  }

  long reconnects() {
    return reconnects.sum();
  }
}
