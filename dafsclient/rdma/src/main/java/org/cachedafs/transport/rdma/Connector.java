package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;

/**
 * The active side of one connection: an id on a channel of its own, then address and route
 * resolution, the queue pair (receives posted before anything can arrive), {@code rdma_connect}
 * (retries and RNR retries 7), and {@code ESTABLISHED}, each step taken on the channel's thread as
 * its event comes (see {@link CmChannel} for why no thread waits for one particular event). The
 * caller of {@link #connect} waits for the outcome, bounded.
 *
 * <p>Ownership: until the connection exists, the id is released here on failure; from then on the
 * connection owns it (and {@link RdmaConnection#abandon} releases both).
 */
final class Connector implements CmChannel.Owner {
  /** For each resolution step, in milliseconds. */
  private static final int RESOLVE_MS = 5000;
  /** For the whole connect: resolution, the handshake and the peer's accept, under emulation too. */
  private static final long CONNECT_MS = 20_000;

  private final CmChannel channel;
  private final InetSocketAddress to;
  private final RdmaDomain domain;
  private final ConnectionHandler handler;
  private final ConnectionLimits limits;
  private final CompletableFuture<RdmaConnection> outcome = new CompletableFuture<>();
  private RdmaCmId id;
  /** Guarded by this. */
  private RdmaConnection connection;
  /** Guarded by this: the caller gave up, and released what existed. */
  private boolean abandoned;

  private Connector(CmChannel channel, InetSocketAddress to, RdmaDomain domain, ConnectionHandler handler, ConnectionLimits limits) {
    this.channel = channel;
    this.to = to;
    this.domain = domain;
    this.handler = handler;
    this.limits = limits;
  }

  static RdmaConnection connect(InetSocketAddress to, RdmaDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    CmChannel channel = CmChannel.open("rdma-cm-" + to.getPort());
    Connector c = new Connector(channel, to, domain, handler, limits);
    try {
      synchronized (c) {
        c.id = channel.createId(c);
      }
    } catch (IOException | RuntimeException e) {
      channel.closeIfUnused();
      throw e;
    }
    try {
      c.resolve();
      RdmaConnection conn = c.outcome.get(CONNECT_MS, TimeUnit.MILLISECONDS);
      conn.start();
      return conn;
    } catch (ExecutionException e) {
      c.giveUp();
      Throwable cause = e.getCause();
      throw cause instanceof IOException io ? new IOException(io.getMessage(), io) : new IOException("rdma connect to " + to + " failed", cause);
    } catch (TimeoutException e) {
      c.giveUp();
      throw new IOException("rdma connect to " + to + ": no connection within " + CONNECT_MS + " ms");
    } catch (InterruptedException e) {
      c.giveUp();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while connecting to " + to, e);
    } catch (IOException | RuntimeException e) {
      c.giveUp();
      throw e;
    }
  }

  /** Starts address resolution; the rest follows on the channel's thread. */
  private void resolve() throws IOException {
    id.resolveAddr(null, to, RESOLVE_MS);
  }

  /** Releases what exists after a failure: the connection (with its id), or the bare id. */
  private void giveUp() {
    RdmaConnection c;
    synchronized (this) {
      if (abandoned) {
        return;
      }
      abandoned = true;
      c = connection;
    }
    if (c != null) {
      c.abandon();
    } else {
      channel.destroyId(id);
    }
  }

  @Override
  public void onCmEvent(RdmaCmEvent.EventType type, RdmaCmEvent event) {
    try {
      switch (type) {
        case RDMA_CM_EVENT_ADDR_RESOLVED -> id.resolveRoute(RESOLVE_MS);
        case RDMA_CM_EVENT_ROUTE_RESOLVED -> makeQueuePairAndConnect();
        case RDMA_CM_EVENT_ESTABLISHED -> {
          RdmaConnection c;
          synchronized (this) {
            c = connection;
          }
          outcome.complete(c);
        }
        case RDMA_CM_EVENT_DISCONNECTED -> {
          RdmaConnection c;
          synchronized (this) {
            c = connection;
          }
          if (c != null && outcome.isDone()) {
            c.peerDisconnected();
          }
        }
        case RDMA_CM_EVENT_TIMEWAIT_EXIT, RDMA_CM_EVENT_CONNECT_RESPONSE -> {
          // Nothing to do.
        }
        default -> fail(new IOException("rdma connect to " + to + ": " + describe(type)));
      }
    } catch (IOException | RuntimeException e) {
      fail(new IOException("rdma connect to " + to + " failed at " + type + ": " + e.getMessage(), e));
    }
  }

  private static String describe(RdmaCmEvent.EventType type) {
    return switch (type) {
      case RDMA_CM_EVENT_REJECTED -> "refused (no listener there, or it refused the connection)";
      case RDMA_CM_EVENT_UNREACHABLE -> "unreachable";
      case RDMA_CM_EVENT_ADDR_ERROR -> "the address does not resolve to an RDMA device";
      case RDMA_CM_EVENT_ROUTE_ERROR -> "no route";
      default -> "connection-manager event " + type;
    };
  }

  /** Before connecting or after: a connection already open closes with the cause; a pending connect fails. */
  private void fail(IOException e) {
    if (!outcome.completeExceptionally(e)) {
      RdmaConnection c;
      synchronized (this) {
        c = connection;
      }
      if (c != null) {
        c.closeWith(e);
      }
    }
  }

  private void makeQueuePairAndConnect() throws IOException {
    synchronized (this) {
      if (abandoned) {
        return;
      }
      QueuePair qp = QueuePair.create(id, domain, RdmaTransport.RECEIVE_DEPTH, RdmaTransport.SEND_QUEUE_DEPTH, RdmaTransport.STAGING_SLOTS,
          RdmaTransport.CAPABILITIES.maxMessage());
      RdmaConnection c = new RdmaConnection(channel, id, domain, qp, handler, limits, RdmaTransport.CAPABILITIES, RdmaTransport.STAGING_SLOTS);
      if (!domain.attach(c)) {
        qp.release();
        throw new IOException("the domain is closed");
      }
      connection = c;
    }
    id.connect(RdmaTransport.connParam());
  }
}
