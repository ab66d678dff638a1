package org.cachedafs.transport.rdma;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
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
 * <p><b>Status: started.</b> Availability is detected and explained; a domain is one protection
 * domain ({@code IbvPd}) on the first RDMA device, every region one memory region registered once
 * ({@link RdmaDomain}). Connections and listeners are not written yet and refuse with {@link
 * UnsupportedOperationException}. Their intended shape (docs/rdma.md): one RC queue pair made through the connection manager with
 * retries and RNR retries of 7; messages over posted receive buffers reused under the SPI's release
 * contract; one-sided transfers as RDMA WRITE and READ; completions polled, then awaited on the
 * completion channel.
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

  /**
   * The limits the provider is designed for; provisional until the provider runs on a device: 1 MiB +
   * 64 KiB messages as on tcp, 16 MiB one-sided transfers (one RDMA READ or WRITE each), 256 posted
   * receives and sends per queue pair (rxe's default limits allow far more); one-sided transfers that
   * need no CPU of the peer and that the peer does not see; any direct buffer registrable (a memory
   * region can cover any pinned memory); one-sided transfers finished only by their completion.
   */
  static final Capabilities CAPABILITIES = new Capabilities((1 << 20) + (64 << 10), 16 << 20, 256, 256, true, true, false, false);

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
   * Loopback does not reach an RDMA device: the local address is the first non-loopback IPv4 address
   * of the host (the one SoftRoCE or the NIC is bound to), with an ephemeral port.
   */
  @Override
  public SocketAddress localAddress() throws IOException {
    return new InetSocketAddress(InetAddress.getLocalHost(), 0);
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
    throw notYet();
  }

  @Override
  public Listener listen(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    throw notYet();
  }

  private RuntimeException notYet() {
    Availability a = availability();
    if (!a.available()) {
      return new IllegalStateException("transport 'rdma' is not available here: " + a.reason());
    }
    return new UnsupportedOperationException("transport 'rdma' is started, not finished: connections and listeners are not written yet (docs/rdma.md)");
  }
}
