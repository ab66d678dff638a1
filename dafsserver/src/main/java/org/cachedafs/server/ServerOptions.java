package org.cachedafs.server;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a server runs.
 *
 * @param export the directory to export
 * @param listen where to listen; port 0 picks a free port
 * @param secret the shared secret; empty means none, and then only loopback clients are served
 * @param lease how long a session lives without renewal
 * @param maxCredits the most slots a session is granted
 * @param workers threads that run operations
 * @param transport the transport scheme
 * @param handshakeTimeout how long a connection may stay without a session
 * @param limits what one client may take of the server
 * @param maxFileSize the largest size a file may reach through the server; the process's
 *     {@code RLIMIT_FSIZE}, if smaller, wins
 * @param offerShm whether to listen on the {@code shm} transport too, where this machine has it, and
 *     offer it to clients on this host once they have a session
 * @param exportedCacheBytes the size of the exported block cache that clients read by one-sided reads
 *     (ODAFS, docs/odafs.md); 0 turns it off
 * @param exportedBlockBytes the exported cache's block size: a power of two from 512 bytes to 1 MiB
 * @param localFence whether to fence local writers: other processes on this host that open, truncate,
 *     rename or remove exported files the server has state on (docs/consistency.md, "Local writers";
 *     it needs root or CAP_SYS_ADMIN, and the server says at start whether it runs)
 * @param stateDir where the server keeps what outlives it (the key that seals durable file handles),
 *     outside the export; null for the export's default, the same at every start
 *     ({@code $XDG_STATE_HOME/cachedafs/NAME-HASH}, else under {@code ~/.local/state}; docs/operations.md)
 * @param grace how long, after a restart, the clients the server knew may reclaim what they held
 *     while new conflicting state waits (it ends sooner once they all have); null for two leases,
 *     zero for none (docs/consistency.md, "Server restart")
 */
public record ServerOptions(Path export, InetSocketAddress listen, byte[] secret, Duration lease, int maxCredits, int workers, String transport,
    Duration handshakeTimeout, ServerLimits limits, long maxFileSize, boolean offerShm,
    long exportedCacheBytes, int exportedBlockBytes, boolean localFence, Path stateDir, Duration grace) {
  public ServerOptions {
    secret = secret.clone();
    if (maxCredits < 1 || workers < 1) {
      throw new IllegalArgumentException("credits and workers must be positive");
    }
    if (lease.toMillis() < 1 || lease.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("the lease must be between 1 ms and " + Integer.MAX_VALUE + " ms");
    }
    if (grace != null && grace.isNegative()) {
      throw new IllegalArgumentException("the grace period cannot be negative");
    }
    if (maxFileSize < 1) {
      throw new IllegalArgumentException("the largest file size must be positive");
    }
    if (exportedCacheBytes < 0 || !org.cachedafs.protocol.SlotImage.validBlockSize(exportedBlockBytes)) {
      throw new IllegalArgumentException("the exported cache needs a size of 0 or more and a block size that is a power of two from 512 bytes to 1 MiB");
    }
  }

  /** The exported cache's default size (64 MiB) and block size (4 KiB). */
  public static final long DEFAULT_EXPORTED_CACHE_BYTES = 64L << 20;
  public static final int DEFAULT_EXPORTED_BLOCK_BYTES = 4096;

  /**
   * Loopback on a free port, no secret, a 30 s lease, 64 credits, 16 workers, tcp, default limits, no
   * file size limit of its own, local writers fenced, the export's default state directory, a grace
   * period of two leases.
   */
  public static ServerOptions of(Path export) {
    return new ServerOptions(export, new InetSocketAddress("127.0.0.1", 0), new byte[0], Duration.ofSeconds(30), 64, 16, "tcp", Duration.ofSeconds(10),
        ServerLimits.defaults(), Long.MAX_VALUE, true,
        DEFAULT_EXPORTED_CACHE_BYTES, DEFAULT_EXPORTED_BLOCK_BYTES, true, null, null);
  }

  @Override
  public byte[] secret() {
    return secret.clone();
  }

  public boolean hasSecret() {
    return secret.length > 0;
  }

  public ServerOptions withListen(InetSocketAddress a) {
    return new ServerOptions(export, a, secret, lease, maxCredits, workers, transport, handshakeTimeout, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  public ServerOptions withSecret(byte[] s) {
    return new ServerOptions(export, listen, s, lease, maxCredits, workers, transport, handshakeTimeout, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  public ServerOptions withLease(Duration l) {
    return new ServerOptions(export, listen, secret, l, maxCredits, workers, transport, handshakeTimeout, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  public ServerOptions withMaxCredits(int c) {
    return new ServerOptions(export, listen, secret, lease, c, workers, transport, handshakeTimeout, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  public ServerOptions withWorkers(int w) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, w, transport, handshakeTimeout, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  public ServerOptions withHandshakeTimeout(Duration d) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, workers, transport, d, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  public ServerOptions withLimits(ServerLimits l) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, workers, transport, handshakeTimeout, l, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  public ServerOptions withMaxFileSize(long bytes) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, workers, transport, handshakeTimeout, limits, bytes, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  /** Whether to offer the {@code shm} transport to clients on this host, beside the main transport. */
  public ServerOptions withShm(boolean offer) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, workers, transport, handshakeTimeout, limits, maxFileSize, offer, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, grace);
  }

  /** Where the server keeps what outlives it; null: the export's default. */
  public ServerOptions withStateDir(Path dir) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, workers, transport, handshakeTimeout, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, dir, grace);
  }

  /** The exported block cache's size (0: none) and block size (ODAFS). */
  public ServerOptions withExportedCache(long bytes, int blockBytes) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, workers, transport, handshakeTimeout, limits, maxFileSize, offerShm, bytes, blockBytes, localFence, stateDir, grace);
  }

  /** Whether to fence local writers (on by default; it runs only as root or with CAP_SYS_ADMIN). */
  public ServerOptions withLocalFence(boolean on) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, workers, transport, handshakeTimeout, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, on, stateDir, grace);
  }

  /** How long clients may reclaim after a restart (null: two leases; zero: no grace). */
  public ServerOptions withGrace(Duration g) {
    return new ServerOptions(export, listen, secret, lease, maxCredits, workers, transport, handshakeTimeout, limits, maxFileSize, offerShm, exportedCacheBytes, exportedBlockBytes, localFence, stateDir, g);
  }

  /** The grace period after a restart: the option's, or two leases. */
  public Duration graceOrDefault() {
    return grace != null ? grace : lease.multipliedBy(2);
  }
}
