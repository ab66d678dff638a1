package org.cachedafs.client;

import java.time.Duration;

/**
 * How a client connects.
 *
 * @param secret the shared secret; empty for a server that runs without one (loopback only)
 * @param credits how many outstanding requests to ask for; the server may grant fewer
 * @param lease the lease to ask for; the server decides
 * @param transport {@code auto} (move to shm when the server is on this host and offers it), {@code
 *     tcp} (stay on tcp) or {@code shm} (move, or fail saying why); the default is the system property
 *     {@code cachedafs.transport}, else {@code auto}
 * @param clientName names this client in the server's log
 * @param reconnectTimeout how long to keep trying to reconnect before failing outstanding requests
 * @param requestTimeout how long a blocking call waits for its reply
 * @param connectTimeout how long the handshake on a new connection may take in all (AUTH_INIT, then
 *     SESSION_CREATE or SESSION_BIND, and the offer of a move to shm): a DAFS server answers each in
 *     well under a millisecond, so only a peer that is not a DAFS server, or a server too overloaded to
 *     serve anyone, runs into it. The default, 10 s, is the server's own handshake timeout, past which
 *     it closes the connection anyway. (tcp's connect itself gives up after 10 s of its own.)
 * @param optimisticReads whether reads ({@code read}, {@code readDirect}, and so the cache's misses
 *     and its reads of files it does not cache, and the uncached door) are served by one-sided reads
 *     of the server's exported cache where the session holds references, asking for references when
 *     they go to the server (ODAFS, docs/odafs.md); the default is the system property {@code
 *     cachedafs.odafs}, else off
 */
public record ClientOptions(byte[] secret, int credits, Duration lease, String transport, String clientName, Duration reconnectTimeout, Duration requestTimeout,
    boolean optimisticReads, Duration connectTimeout) {
  public ClientOptions {
    secret = secret.clone();
    if (credits < 1) {
      throw new IllegalArgumentException("credits must be positive");
    }
    TransportMove.Mode.of(transport); // a bad setting fails here, naming itself
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException("the connect timeout must be positive, not " + connectTimeout);
    }
  }

  /**
   * The system property that sets the default transport of a JVM's clients ({@code auto}, {@code tcp}
   * or {@code shm}), so that one application, or a whole test suite, can be pinned to a transport
   * without code.
   */
  public static final String TRANSPORT_PROPERTY = "cachedafs.transport";

  /** The system property that sets the default of {@link #optimisticReads} ({@code true} or not). */
  public static final String ODAFS_PROPERTY = "cachedafs.odafs";

  /** The default of {@link #connectTimeout}: the server's own handshake timeout. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  public static ClientOptions defaults() {
    return new ClientOptions(new byte[0], 32, Duration.ofSeconds(30), System.getProperty(TRANSPORT_PROPERTY, "auto"), "dafs-client",
        Duration.ofSeconds(30), Duration.ofMinutes(2), Boolean.getBoolean(ODAFS_PROPERTY), DEFAULT_CONNECT_TIMEOUT);
  }

  @Override
  public byte[] secret() {
    return secret.clone();
  }

  public ClientOptions withSecret(byte[] s) {
    return new ClientOptions(s, credits, lease, transport, clientName, reconnectTimeout, requestTimeout, optimisticReads, connectTimeout);
  }

  public ClientOptions withCredits(int c) {
    return new ClientOptions(secret, c, lease, transport, clientName, reconnectTimeout, requestTimeout, optimisticReads, connectTimeout);
  }

  public ClientOptions withLease(Duration l) {
    return new ClientOptions(secret, credits, l, transport, clientName, reconnectTimeout, requestTimeout, optimisticReads, connectTimeout);
  }

  public ClientOptions withTransport(String t) {
    return new ClientOptions(secret, credits, lease, t, clientName, reconnectTimeout, requestTimeout, optimisticReads, connectTimeout);
  }

  public ClientOptions withClientName(String n) {
    return new ClientOptions(secret, credits, lease, transport, n, reconnectTimeout, requestTimeout, optimisticReads, connectTimeout);
  }

  public ClientOptions withReconnectTimeout(Duration d) {
    return new ClientOptions(secret, credits, lease, transport, clientName, d, requestTimeout, optimisticReads, connectTimeout);
  }

  public ClientOptions withRequestTimeout(Duration d) {
    return new ClientOptions(secret, credits, lease, transport, clientName, reconnectTimeout, d, optimisticReads, connectTimeout);
  }

  /** Reads served from the server's exported cache by one-sided reads where the session can (ODAFS). */
  public ClientOptions withOptimisticReads(boolean on) {
    return new ClientOptions(secret, credits, lease, transport, clientName, reconnectTimeout, requestTimeout, on, connectTimeout);
  }

  public ClientOptions withConnectTimeout(Duration d) {
    return new ClientOptions(secret, credits, lease, transport, clientName, reconnectTimeout, requestTimeout, optimisticReads, d);
  }
}
