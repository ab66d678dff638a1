package org.cachedafs.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import org.cachedafs.protocol.Requests;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;

/** The entry point: connects to a DAFS server and opens a session. */
public final class DafsClient {
  private DafsClient() {}

  /**
   * Connects to {@code dafs://HOST:PORT} (transport from the options) or {@code tcp://HOST:PORT},
   * authenticates and creates a session.
   *
   * @throws DafsException with {@code AUTH_FAILED} if the secret is wrong; with {@code NAMETOOLONG} or
   *     {@code INVAL} if the client name is longer than {@link org.cachedafs.protocol.Limits#MAX_CLIENT_NAME}
   *     bytes or has a NUL
   * @throws IOException if the server cannot be reached
   */
  public static DafsSession connect(URI uri, ClientOptions options) throws IOException {
    String scheme = uri.getScheme();
    if (scheme == null || uri.getHost() == null || uri.getPort() < 0) {
      throw new IllegalArgumentException("expected dafs://HOST:PORT or TRANSPORT://HOST:PORT, got " + uri);
    }
    DafsException refused = NameChecks.refusal(new Requests.AuthInit(options.clientName()));
    if (refused != null) {
      throw refused;
    }
    String transportName = scheme.equalsIgnoreCase("dafs") ? options.transport() : scheme;
    Transport transport = Transports.forScheme(transportName);
    ClientSession session = new ClientSession(transport, new InetSocketAddress(uri.getHost(), uri.getPort()), options);
    session.start();
    return session;
  }
}
