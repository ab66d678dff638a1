package org.cachedafs.transport.tcp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.Listener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Accepts tcp connections on its own thread until closed. */
final class TcpListener implements Listener {
  private static final Logger log = LoggerFactory.getLogger(TcpListener.class);

  private final ServerSocketChannel server;
  private final TcpDomain domain;
  private final ConnectionHandler handler;
  private final InetSocketAddress local;
  private final Thread acceptor;

  TcpListener(InetSocketAddress address, TcpDomain domain, ConnectionHandler handler) throws IOException {
    this.server = ServerSocketChannel.open();
    server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    server.bind(address, 256);
    this.local = (InetSocketAddress) server.getLocalAddress();
    this.domain = domain;
    this.handler = handler;
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
        if (server.isOpen()) {
          log.warn("accept on {} failed", local, e);
          continue;
        }
        return;
      }
      try {
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        new TcpConnection(ch, domain, handler).start();
      } catch (IOException | RuntimeException e) {
        log.warn("could not set up a connection on {}", local, e);
        try {
          ch.close();
        } catch (IOException ignored) {
          // The socket is being dropped anyway.
        }
      }
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
  }
}
