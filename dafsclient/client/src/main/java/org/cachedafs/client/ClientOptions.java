package org.cachedafs.client;

import java.time.Duration;

/**
 * How a client connects.
 *
 * @param secret the shared secret; empty for a server that runs without one (loopback only)
 * @param credits how many outstanding requests to ask for; the server may grant fewer
 * @param lease the lease to ask for; the server decides
 * @param transport the transport scheme, {@code tcp} unless the address names another
 * @param clientName names this client in the server's log
 * @param reconnectTimeout how long to keep trying to reconnect before failing outstanding requests
 * @param requestTimeout how long a blocking call waits for its reply
 */
public record ClientOptions(byte[] secret, int credits, Duration lease, String transport, String clientName, Duration reconnectTimeout, Duration requestTimeout) {
  public ClientOptions {
    secret = secret.clone();
    if (credits < 1) {
      throw new IllegalArgumentException("credits must be positive");
    }
  }

  public static ClientOptions defaults() {
    return new ClientOptions(new byte[0], 32, Duration.ofSeconds(30), "tcp", "dafs-client", Duration.ofSeconds(30), Duration.ofMinutes(2));
  }

  @Override
  public byte[] secret() {
    return secret.clone();
  }

  public ClientOptions withSecret(byte[] s) {
    return new ClientOptions(s, credits, lease, transport, clientName, reconnectTimeout, requestTimeout);
  }

  public ClientOptions withCredits(int c) {
    return new ClientOptions(secret, c, lease, transport, clientName, reconnectTimeout, requestTimeout);
  }

  public ClientOptions withLease(Duration l) {
    return new ClientOptions(secret, credits, l, transport, clientName, reconnectTimeout, requestTimeout);
  }

  public ClientOptions withTransport(String t) {
    return new ClientOptions(secret, credits, lease, t, clientName, reconnectTimeout, requestTimeout);
  }

  public ClientOptions withClientName(String n) {
    return new ClientOptions(secret, credits, lease, transport, n, reconnectTimeout, requestTimeout);
  }

  public ClientOptions withReconnectTimeout(Duration d) {
    return new ClientOptions(secret, credits, lease, transport, clientName, d, requestTimeout);
  }

  public ClientOptions withRequestTimeout(Duration d) {
    return new ClientOptions(secret, credits, lease, transport, clientName, reconnectTimeout, d);
  }
}
