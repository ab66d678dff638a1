package org.cachedafs.transport.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Listener;
import org.slf4j.Logger;

/**
 * Accepts tcp connections on its own thread until closed.
 *
 * <p>When accepting fails (most often the process ran out of descriptors: EMFILE), the pending
 * connection stays in the kernel's backlog and the next accept fails the same way at once; a plain
 * retry loop would spin a core and log without end. So the loop backs off, doubling up to a second
 * and resetting at the first success, and logs one line per interval with the count of failures.
 */
final class TcpListener implements Listener {
  private static final Logger log = Loggers.get(TcpListener.class);
  private static final long MIN_BACKOFF_MILLIS = 5;
  private static final long MAX_BACKOFF_MILLIS = 1000;
  private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

  private final ServerSocketChannel server;
  private final TcpDomain domain;
  private final ConnectionHandler handler;
  private final ConnectionLimits limits;
  private final InetSocketAddress local;
  private final Thread acceptor;

  TcpListener(InetSocketAddress address, TcpDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    this.server = ServerSocketChannel.open();
    server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    server.bind(address, 256);
    this.local = (InetSocketAddress) server.getLocalAddress();
    this.domain = domain;
    this.handler = handler;
    this.limits = limits;
    this.acceptor = new Thread(this::acceptLoop, "dafs-tcp-accept-" + local.getPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      SocketChannel ch;
      try {
        ch = server.accept();
      } catch (IOException e) {
        if (!server.isOpen() || !failed("accepting", e)) {
          return;
        }
        continue;
      }
      TcpConnection connection = null;
      try {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        connection = new TcpConnection(ch, domain, handler, limits, true);
        connection.start();
        backoff = 0;
      } catch (IOException | RuntimeException | Error e) {
        // Setting up needs descriptors (selectors) and threads of its own: the same exhaustion ends up
        // here, an OutOfMemoryError for a thread included, and must not end the accept loop.
        if (connection != null) {
          connection.close();
        } else {
          try {
            ch.close();
          } catch (IOException ignored) {
            // The socket is being dropped anyway.
          }
        }
        if (!failed("setting up a connection", e)) {
          return;
        }
      }
    }
  }

  /** Guarded by the acceptor thread. */
  private long backoff;
  /** Guarded by the acceptor thread. */
  private long failures;
  /** Guarded by the acceptor thread. */
  private long lastLog = System.nanoTime() - LOG_INTERVAL_NANOS;

  /** Counts a failure, logs once per interval, and backs off; false if interrupted (closing). */
  private boolean failed(String what, Throwable e) {
    failures++;
    long now = System.nanoTime();
    if (now - lastLog >= LOG_INTERVAL_NANOS) {
      log.warn("{} on {} failed {} time(s) in the last {} s, backing off: {}", what, local, failures,
          LOG_INTERVAL_NANOS / 1_000_000_000L, e.toString());
      failures = 0;
      lastLog = now;
    }
    backoff = Math.min(MAX_BACKOFF_MILLIS, Math.max(MIN_BACKOFF_MILLIS, backoff * 2));
    return pause(backoff);
  }

  private boolean pause(long millis) {
    try {
      Thread.sleep(millis);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public InetSocketAddress localAddress() {
    return local;
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      log.debug("closing listener {}", local, e);
    }
    acceptor.interrupt();
  }
}
