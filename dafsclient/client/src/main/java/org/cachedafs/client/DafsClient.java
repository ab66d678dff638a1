package org.cachedafs.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import org.cachedafs.protocol.Requests;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;

/** The entry point: connects to a DAFS server and opens a session. */
public final class DafsClient {
  /** The port a DAFS server listens on unless told otherwise, and a URI without one means. */
  public static final int DEFAULT_PORT = 5450;

  private DafsClient() {}

  /**
   * Connects to {@code dafs://HOST:PORT} or {@code tcp://HOST:PORT} (without a port, {@link
   * #DEFAULT_PORT}), authenticates and creates a session. A session starts on tcp; with {@code
   * dafs://} and the options' transport {@code auto} (the default) it then moves to shared memory
   * ({@code shm}) when the server is on this host and offers it, with {@code shm} it must move or the
   * connect fails saying why, with {@code tcp} (or a {@code tcp://} URI) it stays.
   *
   * @throws DafsException with {@code AUTH_FAILED} if the secret is wrong; with {@code NAMETOOLONG} or
   *     {@code INVAL} if the client name is longer than {@link org.cachedafs.protocol.Limits#MAX_CLIENT_NAME}
   *     bytes or has a NUL
   * @throws IOException if the server cannot be reached, or the peer is not a DAFS server (a handshake
   *     not done within {@link ClientOptions#connectTimeout}): every failure names the server, {@code
   *     host:port}
   */
  public static DafsSession connect(URI uri, ClientOptions options) throws IOException {
    String scheme = uri.getScheme();
    if (scheme == null || uri.getHost() == null) {
      throw new IllegalArgumentException("expected dafs://HOST[:PORT] or tcp://HOST[:PORT], got " + uri);
    }
    int port = uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort();
    DafsException refused = NameChecks.refusal(new Requests.AuthInit(options.clientName()));
    if (refused != null) {
      throw refused;
    }
    // Every session starts on tcp; the transport setting says whether it may move (see TransportMove).
    TransportMove.Mode mode;
    if (scheme.equalsIgnoreCase("dafs")) {
      mode = TransportMove.Mode.of(options.transport());
    } else if (scheme.equalsIgnoreCase("tcp")) {
      mode = TransportMove.Mode.TCP;
    } else {
      throw new IllegalArgumentException("connect by dafs://HOST:PORT (with transport=" + scheme + ") or tcp://HOST:PORT, not " + uri);
    }
    Transport tcp = Transports.forScheme("tcp");
    TransportMove move = new TransportMove(mode);
    ClientSession session;
    try {
      session = new ClientSession(tcp, new InetSocketAddress(uri.getHost(), port), options, move);
    } catch (RuntimeException e) {
      move.close();
      throw e;
    }
    session.start();
    return session;
  }
}
