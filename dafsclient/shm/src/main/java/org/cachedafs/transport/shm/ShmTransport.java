package org.cachedafs.transport.shm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Capabilities;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Transport;

/**
 * The {@code shm} transport provider: a client and a server on one Linux host share memory; see the
 * package documentation for the design. Addresses are {@link UnixDomainSocketAddress}es.
 */
public final class ShmTransport implements Transport {
  private static final long CONNECT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
  /**
   * What a ring holds of request-sized messages (512 bytes): how many messages a connection can have
   * in flight each way before sends queue locally. Received messages are copied out of the ring at
   * once, so holding them does not hold ring space.
   */
  private static final int DEPTH = Ring.RING_BYTES / 512;
  private static final SecureRandom RANDOM = new SecureRandom();

  @Override
  public String scheme() {
    return "shm";
  }

  @Override
  public boolean isAvailable() {
    return Native.load() != null;
  }

  @Override
  public String unavailableReason() {
    return Native.unavailableReason();
  }

  /**
   * The control socket and the doorbell socket. The ring file and the peer's segments are mapped
   * and their descriptors closed at once; each remote-access segment of a domain keeps one
   * descriptor open in the domain, whatever the number of connections.
   */
  @Override
  public int descriptorsPerConnection() {
    return 2;
  }

  static final Capabilities CAPABILITIES = new Capabilities(Ring.MAX_MESSAGE, ShmConnection.MAX_ONE_SIDED, DEPTH, DEPTH, true, false, false, true);

  @Override
  public Capabilities capabilities() {
    return CAPABILITIES;
  }

  /**
   * A fresh socket path in a new directory under {@code java.io.tmpdir}, named randomly; the listener
   * creates the directory owner-only (0700) and removes it, with the socket, when it closes.
   */
  @Override
  public SocketAddress localAddress() {
    byte[] name = new byte[12];
    RANDOM.nextBytes(name);
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "dafs-shm-" + HexFormat.of().formatHex(name));
    return UnixDomainSocketAddress.of(dir.resolve("socket"));
  }

  @Override
  public MemoryDomain openDomain() {
    return new ShmDomain(nat());
  }

  @Override
  public Connection connect(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits, byte[] credential)
      throws IOException {
    UnixDomainSocketAddress unix = unix(address);
    ShmDomain d = shmDomain(domain);
    if (credential.length > Handshake.MAX_CREDENTIAL) {
      throw new IllegalArgumentException("a credential has at most " + Handshake.MAX_CREDENTIAL + " bytes, not " + credential.length);
    }
    Native nat = nat();
    long deadline = System.nanoTime() + CONNECT_TIMEOUT_NANOS;
    int fd = nat.socket(true);
    ControlChannel ch = new ControlChannel(nat, fd);
    MappedByteBuffer rings = null;
    int doorbell = -1;
    boolean owned = true;
    try {
      while (!nat.connect(fd, unix.getPath())) {
        if (System.nanoTime() > deadline) {
          throw new SocketTimeoutException("the listener at " + unix + " accepted nothing for " + TimeUnit.NANOSECONDS.toSeconds(CONNECT_TIMEOUT_NANOS) + " s");
        }
        Thread.sleep(5); // its backlog is full for now
      }
      Handshake.sendHello(nat, fd, credential, deadline);
      ControlRecord answer = Handshake.awaitAnswer(nat, ch, System.nanoTime() + Handshake.ANSWER_TIMEOUT_NANOS);
      if (answer.type() == ControlRecord.REFUSED) {
        throw new IOException("the peer at " + unix + " refused the credential");
      }
      if (answer.type() != ControlRecord.ACCEPT) {
        throw new PeerViolation("the listener answered the hello with a record of type " + answer.type());
      }
      int ringFd = ch.takeDescriptor();
      try {
        doorbell = ch.takeDescriptor();
      } catch (PeerViolation e) {
        nat.closeQuietly(ringFd);
        throw e;
      }
      rings = Handshake.mapRings(nat, ringFd);
      if (!nat.isUnixSocket(doorbell)) {
        throw new PeerViolation("the doorbell the listener sent is not a Unix socket");
      }
      ShmConnection c = new ShmConnection(nat, ShmConnection.nextNumber(), fd, ch, doorbell, rings, false, d, handler, limits, unix);
      owned = false; // the connection releases the socket, the doorbell and the rings from now on
      try {
        c.open(true);
      } catch (RuntimeException e) {
        c.close(e);
        throw e;
      }
      return c;
    } catch (IOException | RuntimeException | InterruptedException e) {
      if (owned) {
        if (rings != null) {
          Mappings.unmap(rings);
        }
        nat.closeQuietly(doorbell);
        ch.closeStrayDescriptors();
        nat.closeQuietly(fd);
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while connecting to " + unix);
      }
      if (e instanceof IOException io) {
        throw io;
      }
      throw (RuntimeException) e;
    }
  }

  @Override
  public Listener listen(SocketAddress address, MemoryDomain domain, ConnectionHandler handler, ConnectionLimits limits) throws IOException {
    return new ShmListener(nat(), unix(address), shmDomain(domain), handler, limits);
  }

  private static Native nat() {
    Native n = Native.load();
    if (n == null) {
      throw new IllegalStateException("transport 'shm' is not available here: " + Native.unavailableReason());
    }
    return n;
  }

  private static UnixDomainSocketAddress unix(SocketAddress a) {
    if (a instanceof UnixDomainSocketAddress u) {
      return u;
    }
    throw new IllegalArgumentException("an shm address is a Unix socket path, not " + a);
  }

  private static ShmDomain shmDomain(MemoryDomain domain) {
    if (domain instanceof ShmDomain d) {
      return d;
    }
    throw new IllegalArgumentException("an shm connection needs an shm domain, not " + domain);
  }
}
