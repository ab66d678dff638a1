package org.cachedafs.server;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.cachedafs.client.DafsClient;
import org.cachedafs.transport.ConnectionLimits;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The server's command line: {@code java -jar dafs-server.jar --export DIR --listen tcp://HOST:PORT [--secret-file FILE]}. */
@Command(name = "dafs-server", mixinStandardHelpOptions = true, version = "dafs-server 0.1.0",
    description = "Exports a directory to DAFS clients. Prints 'listening on TRANSPORT://HOST:PORT' once it accepts connections; stops cleanly on SIGTERM or SIGINT.")
public final class ServerMain implements Callable<Integer> {
  @Option(names = "--export", required = true, paramLabel = "DIR", description = "The directory to export.")
  Path export;

  @Option(names = "--listen", defaultValue = "tcp://127.0.0.1:" + DafsClient.DEFAULT_PORT, paramLabel = "TRANSPORT://HOST:PORT",
      description = "Where to listen (default: ${DEFAULT-VALUE}). Port 0 picks a free port.")
  URI listen;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Where the server keeps what outlives it (the key that seals file handles), outside the export."
          + " Default: the same at every start for the same export, under $XDG_STATE_HOME/cachedafs (else ~/.local/state/cachedafs).")
  Path stateDir;

  @Option(names = "--secret-file", paramLabel = "FILE",
      description = "The shared secret clients must prove they know. Without it only loopback clients are served.")
  Path secretFile;

  @Option(names = "--lease-ms", defaultValue = "30000", description = "Session lease in milliseconds (default: ${DEFAULT-VALUE}).")
  long leaseMillis;

  @Option(names = "--grace-ms", paramLabel = "MS",
      description = "After a restart, how long the clients the server knew may reclaim their opens, locks and delegations while new"
          + " conflicting requests wait; it ends sooner once they all have. Default: two leases. 0: no grace (nothing can be reclaimed).")
  Long graceMillis;

  @Option(names = "--credits", defaultValue = "64", description = "Most outstanding requests per session (default: ${DEFAULT-VALUE}).")
  int credits;

  @Option(names = "--workers", defaultValue = "16", description = "Threads that run operations (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--max-connections", defaultValue = "0",
      description = "Most connections at once; 0: as many as the descriptors left over from open files carry, at most 1024 (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(names = "--max-unauthenticated", defaultValue = "128",
      description = "Most connections at once without a session; past it the oldest is closed (default: ${DEFAULT-VALUE}).")
  int maxUnauthenticated;

  @Option(names = "--max-sessions", defaultValue = "1024", description = "Most sessions at once (default: ${DEFAULT-VALUE}).")
  int maxSessions;

  @Option(names = "--max-running-per-session", defaultValue = "4",
      description = "Most operations of one session running on the workers at once (default: ${DEFAULT-VALUE}).")
  int maxRunningPerSession;

  @Option(names = "--max-opens-per-session", defaultValue = "1024", description = "Most open files per session (default: ${DEFAULT-VALUE}).")
  int maxOpensPerSession;

  @Option(names = "--max-locks-per-session", defaultValue = "4096", description = "Most locked byte ranges per session (default: ${DEFAULT-VALUE}).")
  int maxLocksPerSession;

  @Option(names = "--max-open-files", defaultValue = "0",
      description = "Descriptors all opens together may hold; past it idle opens give theirs back; 0: half the process's limit (default: ${DEFAULT-VALUE}).")
  int maxOpenFiles;

  @Option(names = "--send-queue-high-water", defaultValue = "4194304",
      description = "Bytes queued for a client above which its requests are no longer read (default: ${DEFAULT-VALUE}).")
  long queueHighWater;

  @Option(names = "--send-queue-limit", defaultValue = "167772160",
      description = "Bytes queued for a client above which its connection is closed (default: ${DEFAULT-VALUE}).")
  long queueLimit;

  @Option(names = "--stall-timeout-ms", defaultValue = "15000",
      description = "How long a client may leave its replies unread before its connection is closed (default: ${DEFAULT-VALUE}).")
  long stallMillis;

  @Option(names = "--max-file-size", paramLabel = "BYTES",
      description = "The largest size a file may reach; writes past it fail with FBIG. The process's file size limit (ulimit -f), if smaller, wins.")
  Long maxFileSize;

  @Option(names = "--no-inline-answers",
      description = "Hand every request to a worker, even the cheap ones (small READs, GETATTR, LOOKUP) that are otherwise answered on the connection's receive thread.")
  boolean noInlineAnswers;

  @Option(names = "--exported-cache-mib", defaultValue = "64", paramLabel = "MIB",
      description = "Size of the exported block cache, which clients read by one-sided reads (ODAFS); 0 turns it off (default: ${DEFAULT-VALUE}).")
  long exportedCacheMib;

  @Option(names = "--exported-block-kib", defaultValue = "4", paramLabel = "KIB",
      description = "Block size of the exported cache, a power of two from 1 to 1024 KiB (default: ${DEFAULT-VALUE}).")
  int exportedBlockKib;

  @Option(names = "--no-local-fence",
      description = "Do not fence local writers: without the fence, a process on this host that writes, truncates, renames or removes an exported file"
          + " behind the server's back may leave clients' caches serving old bytes. The fence needs root or CAP_SYS_ADMIN.")
  boolean noLocalFence;

  @Option(names = "--no-shm",
      description = "Do not offer the shm transport (shared memory, for clients on this host) beside the main transport.")
  boolean noShm;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = new PrintWriter(System.out, true);
    if (listen.getScheme() == null || listen.getHost() == null || listen.getPort() < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--listen must look like tcp://HOST:PORT, not " + listen);
    }
    if (!Files.isDirectory(export)) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--export " + export + " is not a directory");
    }
    if (leaseMillis < 100 || leaseMillis > Integer.MAX_VALUE || credits < 1 || workers < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--lease-ms must be between 100 and " + Integer.MAX_VALUE + ", --credits and --workers positive");
    }
    if (graceMillis != null && graceMillis < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--grace-ms cannot be negative");
    }
    ServerLimits limits;
    try {
      limits = new ServerLimits(maxConnections, maxUnauthenticated, maxSessions, maxRunningPerSession, maxOpensPerSession,
          maxLocksPerSession, maxOpenFiles, new ConnectionLimits(queueHighWater, queueLimit, Duration.ofMillis(stallMillis)),
          !noInlineAnswers);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), "bad limit: " + e.getMessage());
    }
    if (exportedCacheMib < 0 || exportedCacheMib > (1L << 20) || exportedBlockKib < 1 || exportedBlockKib > 1024 || Integer.bitCount(exportedBlockKib) != 1) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--exported-cache-mib must be 0 or more and --exported-block-kib a power of two from 1 to 1024");
    }
    if (maxFileSize != null && maxFileSize < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--max-file-size must be positive");
    }
    byte[] secret = new byte[0];
    if (secretFile != null) {
      secret = Files.readString(secretFile).strip().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      if (secret.length == 0) {
        throw new CommandLine.ParameterException(new CommandLine(this), "the secret file " + secretFile + " is empty");
      }
    } else {
      out.println("no secret file given: serving loopback clients only");
    }
    ServerOptions options = new ServerOptions(export, new InetSocketAddress(listen.getHost(), listen.getPort()), secret,
        Duration.ofMillis(leaseMillis), credits, workers, listen.getScheme(), Duration.ofSeconds(10), limits,
        maxFileSize == null ? Long.MAX_VALUE : maxFileSize, !noShm, exportedCacheMib << 20, exportedBlockKib << 10, !noLocalFence, stateDir,
        graceMillis == null ? null : Duration.ofMillis(graceMillis));
    CountDownLatch stop = new CountDownLatch(1);
    DafsServer started;
    try {
      started = DafsServer.start(options);
    } catch (IOException e) {
      // A state directory or key it must not use, an address taken: the reason is the message.
      System.err.println("dafs-server: cannot start: " + e.getMessage());
      return 1;
    }
    try (DafsServer server = started) {
      SignalStop.install(stop);
      ServerStats.Handles handles = server.stats().handles();
      out.println("state directory " + server.stateDirectory());
      out.println(handles.durable() ? "file handles outlive the server" : "file handles go stale when the server stops: " + handles.volatileReason());
      out.println("listening on " + server.uri());
      server.offeredTransports().forEach(t -> out.println("offering " + t + " to clients on this host"));
      stop.await();
      out.println("stopping");
    }
    return 0;
  }

  public static void main(String[] args) {
    int code = new CommandLine(new ServerMain()).execute(args);
    System.exit(code);
  }
}
