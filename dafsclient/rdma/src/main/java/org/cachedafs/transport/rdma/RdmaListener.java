package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Listener;
import org.slf4j.Logger;

/**
 * Accepts RC connections through the connection manager until closed: a listening id on its own
 * {@link CmChannel}. For each connect request it makes the queue pair in the listener's domain, posts
 * the receive buffers, then accepts (retries and RNR retries 7); the connection starts, and the
 * handler hears {@code onOpen}, when the channel reports it {@code ESTABLISHED}.
 *
 * <p>The handler's {@link ConnectionHandler#admit} is not asked: DiSNI hands a connect request's
 * private data to no one, so no credential reaches the listener, and nothing is shared with a peer
 * before the layer above authenticates it (a peer can name only regions it is told of).
 *
 * <p>Ownership: the listening id is the listener's, destroyed by {@link #close}; accepted ids belong
 * to their connections. The channel stops once the listener and its connections are all gone.
 */
final class RdmaListener implements Listener, CmChannel.Owner {
  private static final Logger log = Loggers.get(RdmaListener.class);
  private static final int BACKLOG = 64;

  private final CmChannel channel;
  private final RdmaDomain domain;
  private final ConnectionHandler handler;
  private final ConnectionLimits limits;
  private RdmaCmId id;
  private InetSocketAddress local;
  private volatile boolean closed;

  private RdmaListener(CmChannel channel, RdmaDomain domain, ConnectionHandler handler, ConnectionLimits limits) {
    this.channel = channel;
    this.domain = domain;
    this.handler = handler;
    this.limits = limits;
  }

  static RdmaListener open(InetSocketAddress address, RdmaDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    CmChannel channel = CmChannel.open("rdma-cm-listen-" + address.getPort());
    RdmaListener l = new RdmaListener(channel, domain, handler, limits);
    RdmaCmId id = null;
    try {
      id = channel.createId(l);
      id.bindAddr(address);
      id.listen(BACKLOG);
      l.local = (InetSocketAddress) id.getSource();
      l.id = id;
      return l;
    } catch (IOException | RuntimeException e) {
      if (id != null) {
        channel.destroyId(id);
      } else {
        channel.closeIfUnused();
      }
      throw e;
    }
  }

  @Override
  public SocketAddress localAddress() {
    return local;
  }

  /** The listening id's events: connect requests. */
  @Override
  public void onCmEvent(RdmaCmEvent.EventType type, RdmaCmEvent event) {
    if (type != RdmaCmEvent.EventType.RDMA_CM_EVENT_CONNECT_REQUEST) {
      log.debug("listener: connection-manager event {}", type);
      return;
    }
    RdmaCmId requested = event.getConnIdPriv();
    Accepted accepted = new Accepted();
    // The id is the channel's from here, whatever happens next.
    channel.adopt(requested, accepted);
    if (closed) {
      // Destroying a request's id refuses it.
      channel.destroyId(requested);
      return;
    }
    try {
      QueuePair qp = QueuePair.create(requested, domain, RdmaTransport.RECEIVE_DEPTH, RdmaTransport.SEND_QUEUE_DEPTH, RdmaTransport.STAGING_SLOTS,
          RdmaTransport.CAPABILITIES.maxMessage());
      RdmaConnection c = new RdmaConnection(channel, requested, domain, qp, handler, limits, RdmaTransport.CAPABILITIES, RdmaTransport.STAGING_SLOTS);
      accepted.connection = c;
      if (!domain.attach(c)) {
        c.abandon();
        return;
      }
      requested.accept(RdmaTransport.connParam());
    } catch (IOException | RuntimeException e) {
      log.warn("accepting a connection failed", e);
      if (accepted.connection != null) {
        accepted.connection.abandon();
      } else {
        channel.destroyId(requested);
      }
    }
  }

  /** The events of one accepted id, on the channel's thread. */
  private static final class Accepted implements CmChannel.Owner {
    /** Set on the channel's thread before accept, so every later event finds it. */
    RdmaConnection connection;
    boolean established;

    @Override
    public void onCmEvent(RdmaCmEvent.EventType type, RdmaCmEvent event) {
      RdmaConnection c = connection;
      if (c == null) {
        return;
      }
      switch (type) {
        case RDMA_CM_EVENT_ESTABLISHED -> {
          established = true;
          c.start();
        }
        case RDMA_CM_EVENT_DISCONNECTED -> c.peerDisconnected();
        case RDMA_CM_EVENT_TIMEWAIT_EXIT, RDMA_CM_EVENT_CONNECT_RESPONSE -> {
          // Nothing to do.
        }
        default -> {
          if (established) {
            c.closeWith(new IOException("connection-manager event " + type));
          } else {
            c.abandon();
          }
        }
      }
    }
  }

  /** Stops accepting; accepted connections stay open (their ids stay on the channel until they close). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    channel.destroyId(id);
  }
}
