package org.cachedafs.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.LongAdder;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session's hold on a connection to the server: the first connect, noticing a loss, reconnecting
 * and binding within {@link ClientOptions#reconnectTimeout()}, and giving up, after which the session
 * is dead for good.
 *
 * <p>A loss is repaired on the timer thread: connect, {@link ClientHandshake#bind}, then {@link
 * RequestPipeline#install}, which resends what was outstanding. Back-off doubles from 10 ms to 1 s. A
 * server that no longer knows the session (BADSESSION, EXPIRED) or fails its proof (AUTH_FAILED) ends
 * it at once, since trying again cannot help.
 */
final class Link {
  private static final Logger log = LoggerFactory.getLogger(Link.class);

  private final Transport transport;
  private final InetSocketAddress address;
  private final MemoryDomain domain;
  private final ClientOptions options;
  private final ConnectionHandler handler;
  private final ClientHandshake handshake;
  private final RequestPipeline pipeline;
  private final CallbackDispatcher callbacks;
  private final ScheduledExecutorService timer;
  private final LongAdder reconnects = new LongAdder();
  /**
   * Set before the session is destroyed (or a failed start cleans up) and never cleared: the server
   * closes the connection after SESSION_DESTROY, and that close must not start a reconnect.
   */
  private volatile boolean closing;

  Link(Transport transport, InetSocketAddress address, MemoryDomain domain, ClientOptions options, ConnectionHandler handler,
      ClientHandshake handshake, RequestPipeline pipeline, CallbackDispatcher callbacks, ScheduledExecutorService timer) {
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

  /** Connects and creates the session; on failure the link is closing and the connection closed. */
  void open() throws IOException {
    Connection c = null;
    try {
      c = transport.connect(address, domain, handler);
      handshake.create(c);
      pipeline.install(c);
    } catch (IOException | RuntimeException e) {
      closing = true;
      if (c != null) {
        c.close();
      }
      throw e;
    }
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
      Connection c = null;
      try {
        c = transport.connect(address, domain, handler);
        handshake.bind(c);
        pipeline.install(c);
        reconnects.increment();
        log.info("reconnected to {} and bound session {}", address, Long.toHexString(pipeline.sessionId()));
        return;
      } catch (DafsException e) {
        if (c != null) {
          c.close();
        }
        if (e.status() == Status.BADSESSION || e.status() == Status.EXPIRED || e.status() == Status.AUTH_FAILED) {
          die(new DafsException(e.status(), "the session could not be resumed after a reconnect", e));
          return;
        }
        last = e;
      } catch (IOException e) {
        if (c != null) {
          c.close();
        }
        last = new DafsException(Status.CONNECTION_LOST, e.toString(), e);
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        return;
      }
      backoff = Math.min(1000, backoff * 2);
    }
    if (!closing) {
      die(new DafsException(Status.CONNECTION_LOST, "no reconnect to " + address + " within " + options.reconnectTimeout(), last));
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
