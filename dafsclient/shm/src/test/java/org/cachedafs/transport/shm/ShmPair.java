package org.cachedafs.transport.shm;

import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Transports;

/** A listener and its domain, and the connections made to it in this process, for shm's own tests. */
final class ShmPair implements AutoCloseable {
  final ShmTransport transport = (ShmTransport) Transports.forScheme("shm");
  final ShmDomain serverDomain = (ShmDomain) transport.openDomain();
  final Listener listener;
  /** Server-side connections, in the order they opened. */
  final BlockingQueue<ShmConnection> accepted = new LinkedBlockingQueue<>();
  final BlockingQueue<byte[]> atServer = new LinkedBlockingQueue<>();
  private final java.util.List<ShmConnection> serverSide = new java.util.concurrent.CopyOnWriteArrayList<>();

  ShmPair() throws Exception {
    this(ConnectionLimits.defaults());
  }

  /** A listener whose connections keep {@code limits}. */
  ShmPair(ConnectionLimits limits) throws Exception {
    listener = transport.listen(transport.localAddress(), serverDomain, new ConnectionHandler() {
      @Override
      public boolean admit(byte[] credential) {
        return ShmPair.this.admit(credential);
      }

      @Override
      public void onOpen(Connection c) {
        serverSide.add((ShmConnection) c);
        accepted.add((ShmConnection) c);
      }

      @Override
      public void onMessage(Connection c, Received r) {
        atServer.add(bytes(r.detach()));
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {
        closedCauses.add(new Closed((ShmConnection) c, cause));
      }
    }, limits);
  }

  record Closed(ShmConnection connection, Throwable cause) {}

  /** Server-side connections that closed, with their causes. */
  final BlockingQueue<Closed> closedCauses = new LinkedBlockingQueue<>();

  volatile byte[] requiredCredential;

  private boolean admit(byte[] credential) {
    byte[] required = requiredCredential;
    return required == null || java.util.Arrays.equals(required, credential);
  }

  /** A client end of a new connection, in its own domain. */
  Client connect() throws Exception {
    return connect(new byte[0]);
  }

  Client connect(byte[] credential) throws Exception {
    return connect(credential, null);
  }

  /** A client whose handler first runs {@code onEachMessage} (which may block its receive thread, as a peer that stops reading). */
  Client connect(byte[] credential, Runnable onEachMessage) throws Exception {
    ShmDomain domain = (ShmDomain) transport.openDomain();
    Client c = new Client(domain, onEachMessage);
    try {
      c.connection = (ShmConnection) transport.connect(listener.localAddress(), domain, c.handler, ConnectionLimits.defaults(), credential);
    } catch (Exception e) {
      domain.close();
      throw e;
    }
    c.server = accepted.poll(10, TimeUnit.SECONDS);
    return c;
  }

  static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a;
  }

  /** A connecting side: its domain, its connection, what it received, how it closed. */
  static final class Client implements AutoCloseable {
    final ShmDomain domain;
    ShmConnection connection;
    /** The same connection's server side. */
    ShmConnection server;
    final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Throwable> closed = new CompletableFuture<>();
    final ConnectionHandler handler = new ConnectionHandler() {
      @Override
      public void onMessage(Connection c, Received r) {
        if (onEachMessage != null) {
          onEachMessage.run();
        }
        received.add(bytes(r.detach()));
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {
        closed.complete(cause);
      }
    };
    private final Runnable onEachMessage;

    Client(ShmDomain domain, Runnable onEachMessage) {
      this.domain = domain;
      this.onEachMessage = onEachMessage;
    }

    @Override
    public void close() {
      connection.close();
      domain.close();
    }
  }

  @Override
  public void close() {
    listener.close();
    for (ShmConnection c : serverSide) {
      c.close();
    }
    serverDomain.close();
  }
}
