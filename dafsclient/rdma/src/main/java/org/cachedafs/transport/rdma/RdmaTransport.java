package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.RdmaConnParam;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import org.cachedafs.transport.Capabilities;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Transport;

/**
 * The {@code rdma} transport provider: real verbs through DiSNI, where an RDMA device and the
 * project's own {@code libdisni.so} are present. Addresses are {@link InetSocketAddress}es of the
 * device's IP interface, as the RDMA connection manager takes them.
 *
 * <p>Availability is detected and explained; a domain is one protection domain ({@code IbvPd}) on
 * the first RDMA device, every region one memory region registered once ({@link RdmaDomain}). A
 * connection is one RC queue pair made through the connection manager ({@link Connector},
 * {@link RdmaListener}, {@link CmChannel}) with retries and RNR retries of 7; messages go over posted
 * receive buffers reused under the SPI's release contract, one-sided transfers as RDMA WRITE and
 * READ, completions polled, then awaited on the completion channel ({@link RdmaConnection},
 * {@link QueuePair}). See docs/rdma.md.
 */
public final class RdmaTransport implements Transport {
  /**
   * What this machine offers, probed once per provider instance, on first use: a provider found by
   * {@code ServiceLoader} and never asked costs nothing.
   */
  private Availability availability;

  @Override
  public String scheme() {
    return "rdma";
  }

  @Override
  public boolean isAvailable() {
    return availability().available();
  }

  @Override
  public String unavailableReason() {
    return availability().reason();
  }

  private synchronized Availability availability() {
    if (availability == null) {
      availability = Availability.probe();
    }
    return availability;
  }

  /** Receive buffers posted per queue pair, each of {@link Capabilities#maxMessage} bytes. */
  static final int RECEIVE_DEPTH = 16;
  /** Send staging buffers per connection, each of {@link Capabilities#maxMessage} bytes: messages in flight. */
  static final int STAGING_SLOTS = 8;
  /** Work requests (sends and one-sided) posted at once per queue pair; more wait in the connection. */
  static final int SEND_QUEUE_DEPTH = 64;

  /**
   * 1 MiB + 64 KiB messages as on tcp (a reply carrying 1 MiB of data), one receive buffer of that
   * size each; 16 MiB one-sided transfers (one RDMA READ or WRITE each); 16 receives posted and 8
   * messages in flight per connection (about 27 MiB registered per connection: the buffers are the
   * price of verbs' fixed-size receives, so the depths are kept small); one-sided transfers that need
   * no CPU of the peer and that the peer does not see; any direct buffer registrable (a memory region
   * can cover any memory); one-sided transfers finished only by their completion.
   */
  static final Capabilities CAPABILITIES = new Capabilities((1 << 20) + (64 << 10), 16 << 20, RECEIVE_DEPTH, STAGING_SLOTS, true, true, false, false);

  /**
   * Retries and RNR retries 7. DiSNI's default is zero for both: one late ACK under emulation would
   * end the connection. An RNR retry count of 7 means "retry for ever": a peer that holds its
   * receive buffers makes our SENDs wait, which is the flow control of this provider.
   */
  static RdmaConnParam connParam() throws IOException {
    RdmaConnParam p = new RdmaConnParam();
    p.setRetry_count((byte) 7);
    p.setRnr_retry_count((byte) 7);
    return p;
  }

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  /** The event channel and the completion channel of the connection's queue pair. */
  @Override
  public int descriptorsPerConnection() {
    return 2;
  }

  /**
   * Loopback does not reach an RDMA device: the local address is the first RDMA device's IPv4
   * address (the interface SoftRoCE or the NIC is bound to), with an ephemeral port.
   */
  @Override
  public SocketAddress localAddress() throws IOException {
    return new InetSocketAddress(Device.firstAddress(Path.of("/")), 0);
  }

  /** A domain on the first RDMA device (the one whose interface has an IPv4 address). */
  @Override
  public MemoryDomain openDomain() {
    Availability a = availability();
    if (!a.available()) {
      throw new IllegalStateException("transport 'rdma' is not available here: " + a.reason());
    }
    try {
      return RdmaDomain.open(Device.firstAddress(Path.of("/")));
    } catch (IOException e) {
      throw new UncheckedIOException("could not open a protection domain on the RDMA device", e);
    }
  }

  @Override
  public Connection connect(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits, byte[] credential)
      throws IOException {
    requireAvailable();
    // The credential is not sent: see RdmaListener (DiSNI passes no connect private data to the listener).
    return Connector.connect(inet(address), rdmaDomain(domain), handler, limits);
  }

  @Override
  public Listener listen(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    requireAvailable();
    return RdmaListener.open(inet(address), rdmaDomain(domain), handler, limits);
  }

  private void requireAvailable() {
    Availability a = availability();
    if (!a.available()) {
      throw new IllegalStateException("transport 'rdma' is not available here: " + a.reason());
    }
  }

  private static InetSocketAddress inet(SocketAddress address) {
    if (!(address instanceof InetSocketAddress i) || !(i.getAddress() instanceof java.net.Inet4Address)) {
      throw new IllegalArgumentException("not an address of transport rdma (an IPv4 address and port): " + address);
    }
    return i;
  }

  private static RdmaDomain rdmaDomain(MemoryDomain domain) {
    if (!(domain instanceof RdmaDomain d)) {
      throw new IllegalArgumentException("not a domain of transport rdma: " + domain);
    }
    return d;
  }
}
