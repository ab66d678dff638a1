package org.cachedafs.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.ArrayList;
import java.util.List;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.DomainStats;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;
import org.slf4j.Logger;

/**
 * A DAFS server exporting one directory.
 *
 * <p>Structure: the transport's {@link Listener} accepts connections; the {@link Dispatcher} decodes
 * their frames, authenticates, checks sessions and slots, and hands operations to a worker pool;
 * {@link NamespaceOps} and {@link DataOps} carry them out on the {@link Export}, whose
 * {@link HandleTable} maps handles to files: durable ones built from the kernel's file handle
 * ({@link KernelHandles}, sealed under a key in the {@link StateDirectory}) where the kernel allows,
 * random ones held in memory where not. Direct I/O moves data through a
 * {@link StagingPool} registered once at start in each transport's domain ({@link Endpoint}). Beside
 * its main transport the server listens on {@code shm} where the machine has it, and offers it to
 * clients on this host once they hold a session ({@link TransportOffers}). A housekeeping thread sweeps the leases: a session whose
 * lease ran out is kept as a courtesy session until another client needs what it holds
 * ({@link Courtesy}). The {@link LocalFence} holds other processes'
 * opens of files the server has state on until their delegations are back and exported blocks wiped.
 */
public final class DafsServer implements AutoCloseable {
  private static final Logger log = Loggers.get(DafsServer.class);
  private final ServerOptions options;
  /** The main transport's endpoint, then the ones offered beside it. */
  private final List<Endpoint> endpoints = new ArrayList<>();
  private final SessionTable sessions;
  private final Export export;
  private final ExecutorService workers;
  private final ScheduledExecutorService housekeeping;
  private final Courtesy courtesy;
  private final Dispatcher dispatcher;
  private final DataOps data;
  private final Delegations delegations;
  private final Admission admission;
  private final OpenBudget openBudget;
  private final ExportedCache exported;
  private final Path stateDir;
  private final ClientRecords records;
  private final Grace grace;
  private final LocalFence fence;
  private volatile boolean closed;

  private DafsServer(ServerOptions options) throws IOException {
    this.options = options;
    Transport transport = Transports.forScheme(options.transport());
    SecureRandom random = new SecureRandom();
    long rlimit = FileSizeLimit.ofProcess();
    Path root = options.export().toRealPath();
    this.stateDir = StateDirectory.prepare(options.stateDir() != null ? options.stateDir() : StateDirectory.defaultFor(root), root);
    log.info("state directory {}", stateDir);
    // Read before anything listens: the clients recorded when the server stopped are the ones its
    // grace period waits for.
    this.records = ClientRecords.open(stateDir);
    this.grace = new Grace(records, options.graceOrDefault(), System.nanoTime());
    DurableHandles durable = DisabledDurableHandles.INSTANCE;
    String volatileReason = "";
    try {
      durable = KernelHandles.open(root, stateDir, random);
      log.info("file handles are the kernel's, sealed under {}: they outlive the server", stateDir.resolve(HandleKey.FILE_NAME));
    } catch (KernelHandles.Unavailable e) {
      volatileReason = e.getMessage();
      log.warn("file handles are held in memory and go stale when the server stops: {}", volatileReason);
    }
    try {
      this.export = new Export(root, Math.min(options.maxFileSize(), rlimit), durable, volatileReason);
    } catch (IOException | RuntimeException e) {
      durable.close();
      records.close();
      throw e;
    }
    if (rlimit < options.maxFileSize()) {
      log.info("the process's file size limit (ulimit -f) caps files at {} bytes", rlimit);
    }
    Endpoint main = Endpoint.open(transport);
    endpoints.add(main);
    if (options.offerShm() && !transport.scheme().equals("shm")) {
      Transport shm = Transports.all().stream().filter(t -> t.scheme().equals("shm")).findFirst().orElse(null);
      if (shm == null) {
        log.info("shm is not offered: the shm transport is not installed");
      } else if (!shm.isAvailable()) {
        log.info("shm is not offered: {}", shm.unavailableReason());
      } else {
        try {
          endpoints.add(Endpoint.open(shm));
        } catch (RuntimeException e) {
          // Say why and serve on the main transport: shared memory is an optimisation, never a
          // reason not to start (a file size limit refuses the segments, for one).
          log.warn("shm is not offered: its memory could not be set up: {}", e.toString());
        }
      }
    }
    this.exported = exportedCache(options, random);
    this.sessions = new SessionTable(random);
    this.workers = Executors.newFixedThreadPool(options.workers(), named("dafs-worker"));
    java.util.concurrent.ScheduledThreadPoolExecutor timers = new java.util.concurrent.ScheduledThreadPoolExecutor(1, named("dafs-housekeeping"));
    timers.setRemoveOnCancelPolicy(true); // a cancelled handshake deadline must not keep its connection reachable
    this.housekeeping = timers;
    this.delegations = new Delegations(options.lease().toNanos(), housekeeping, workers, random);
    this.fence = LocalFence.start(options.localFence(), delegations, exported, options.lease());
    export.handles().onForget(n -> {
      exported.removed(n);
      fence.forget(n);
    });
    ServerLimits limits = options.limits();
    long descriptors = OpenBudget.processDescriptorLimit();
    this.openBudget = new OpenBudget(limits.maxOpenFiles() > 0 ? limits.maxOpenFiles() : OpenBudget.fromProcessLimit(descriptors));
    int maxConnections = limits.maxConnections() > 0 ? limits.maxConnections()
        : connectionsThatFit(descriptors - openBudget.budget(),
            endpoints.stream().mapToInt(e -> e.transport.descriptorsPerConnection()).max().orElse(1));
    this.admission = new Admission(maxConnections, limits.maxUnauthenticated());
    this.courtesy = new Courtesy(sessions, export.handles(), delegations, workers, options.lease(), records);
    this.data = new DataOps(export, this::stagingFor, random, delegations, courtesy, limits, openBudget, exported, fence);
    this.dispatcher = new Dispatcher(options, sessions, export, new NamespaceOps(export, delegations, exported),
        data, delegations, workers, housekeeping, random,
        admission, new TransportOffers(endpoints.subList(1, endpoints.size()), random), records, grace);
    long period = Math.max(20, options.lease().toMillis() / 4);
    housekeeping.scheduleAtFixedRate(this::expireLeases, period, period, TimeUnit.MILLISECONDS);
    try {
      main.listen(options.listen(), dispatcher, limits.connection());
      for (Endpoint e : endpoints.subList(1, endpoints.size())) {
        try {
          e.listen(e.transport.localAddress(), dispatcher, limits.connection());
        } catch (IOException | RuntimeException x) {
          log.warn("{} is not offered: it could not listen: {}", e.transport.scheme(), x.toString());
          e.close(); // its staging memory goes now; an endpoint that does not listen is never offered
        }
      }
    } catch (IOException | RuntimeException e) {
      fence.close();
      shutdownThreads();
      exported.close();
      endpoints.forEach(Endpoint::close);
      export.handles().close();
      records.close();
      throw e;
    }
    log.info("exporting {} on {}://{}; of the process's {} descriptors, {} for open files and {} connections", export.root(),
        options.transport(), hostPort(address()), descriptors, openBudget.budget(), maxConnections);
    offeredTransports().forEach(t -> log.info("offering {} to clients on this host", t));
  }

  /**
   * The exported block cache (ODAFS): its slabs allocated in the domain of the first transport that
   * cannot expose foreign memory (shm: a peer reaches only segments the domain made), else the main
   * one, and the same memory registered in every other domain that can (tcp), so that clients on any
   * of them can read it. A transport that can do neither gets no references.
   */
  private ExportedCache exportedCache(ServerOptions options, SecureRandom random) {
    if (options.exportedCacheBytes() == 0) {
      return ExportedCache.disabled();
    }
    Endpoint home = endpoints.stream().filter(e -> !e.transport.capabilities().registersForeignMemory()).findFirst().orElse(endpoints.get(0));
    List<org.cachedafs.transport.MemoryDomain> others = endpoints.stream().filter(e -> e != home && e.transport.capabilities().registersForeignMemory())
        .map(e -> e.domain).toList();
    try {
      ExportedCache c = ExportedCache.create(options.exportedCacheBytes(), options.exportedBlockBytes(), home.domain, others, random);
      log.info("exported cache: {} slots of {} bytes in {} memory{}", c.slots(), c.blockSize(), home.transport.scheme(),
          others.isEmpty() ? "" : ", also readable over the other transports");
      return c;
    } catch (RuntimeException e) {
      // An optimisation, never a reason not to start: say why and serve without it.
      log.warn("no exported cache: its memory could not be set up: {}", e.toString());
      return ExportedCache.disabled();
    }
  }

  /** Descriptors kept for the JVM itself (jars, pipes, the listener, the export's lookups). */
  private static final long RESERVED_DESCRIPTORS = 64;
  /** The default connection limit where descriptors allow it. */
  private static final int DEFAULT_MAX_CONNECTIONS = 1024;

  /**
   * The connection limit that the descriptors left over from open files can carry, so that
   * connections alone can never exhaust the process (the accept loop would then fail, and every
   * operation that needs a descriptor with it).
   */
  static int connectionsThatFit(long descriptorsLeft, int perConnection) {
    return (int) Math.max(8, Math.min(DEFAULT_MAX_CONNECTIONS, (descriptorsLeft - RESERVED_DESCRIPTORS) / perConnection));
  }

  /** Starts a server; it accepts connections when this returns. */
  public static DafsServer start(ServerOptions options) throws IOException {
    return new DafsServer(options);
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) endpoints.get(0).address();
  }

  /** Where the server keeps what outlives it (the handle key): the option's, or the export's default. */
  public Path stateDirectory() {
    return stateDir;
  }

  /** The session table, for tests in this package that break a session's connection. */
  SessionTable sessions() {
    return sessions;
  }

  /** The transports offered beside the main one, as {@code SCHEME://ADDRESS}. */
  public List<String> offeredTransports() {
    return endpoints.subList(1, endpoints.size()).stream().filter(Endpoint::listening).map(Endpoint::describe).toList();
  }

  /** The counters of every transport's domain, summed. */
  private DomainStats domainStats() {
    long registrations = 0;
    long placed = 0;
    long staged = 0;
    long discarded = 0;
    long largest = 0;
    for (Endpoint e : endpoints) {
      DomainStats d = e.domain.stats();
      registrations += d.registrations();
      placed += d.placedBytes();
      staged += d.stagedBytes();
      discarded += d.discardedBytes();
      largest = Math.max(largest, d.largestMessage());
    }
    return new DomainStats(registrations, placed, staged, discarded, largest);
  }

  /** The staging memory in the domain of {@code c}'s transport. */
  private StagingPool stagingFor(Connection c) {
    for (Endpoint e : endpoints) {
      if (e.domain == c.domain()) {
        return e.staging;
      }
    }
    throw new IllegalStateException(c + " belongs to none of the server's transports");
  }

  /**
   * {@code dafs://HOST:PORT}, the address a client connects to: its session starts on the main
   * transport and, on this host, moves to shm when offered (the client's transport setting).
   */
  public URI uri() {
    return URI.create("dafs://" + hostPort(address()));
  }

  public ServerStats stats() {
    HandleTable handles = export.handles();
    return new ServerStats(sessions.size(), dispatcher.executed.sum(), dispatcher.replayed.sum(), dispatcher.malformed.sum(),
        dispatcher.authFailures.sum(), dispatcher.refused.sum(), delegations.granted.sum(), delegations.recalls.sum(),
        delegations.returns.sum(), delegations.revocations.sum(), domainStats(), admission.connections(), admission.evicted.sum(),
        admission.refused.sum(), openBudget.used(), openBudget.parked.sum(), openBudget.reopened.sum(),
        data.directBytesOut.sum(), data.directBytesIn.sum(),
        new ServerStats.Exported(exported.slots(), exported.resident(), exported.fills.sum(), exported.fillsWithdrawn.sum(),
            exported.evictions.sum(), exported.invalidations.sum(), exported.referencesGiven.sum()),
        fence.stats(),
        new ServerStats.Handles(handles.durable(), handles.volatileReason(), handles.revived.sum(), handles.forged.sum()),
        grace.stats(System.nanoTime()));
  }

  /**
   * Whether local writers are fenced: other processes on this host that open an exported file the
   * server has state on wait until its delegations are back and its exported blocks are wiped
   * (docs/consistency.md, "Local writers"). False with {@code --no-local-fence}, without CAP_SYS_ADMIN,
   * and once the fence's thread has stopped; the log says why.
   */
  public boolean localWritersFenced() {
    return fence.active();
  }

  /** The handle table, for tests in this package that race it. */
  HandleTable handles() {
    return export.handles();
  }

  /** The local-writer fence, for tests in this package that stop it. */
  LocalFence fence() {
    return fence;
  }

  private void expireLeases() {
    courtesy.sweep(System.nanoTime());
    grace.active(System.nanoTime()); // ends it on time, and forgets the clients that did not come back
    delegations.expireSoon();
  }

  /** Stops accepting, ends every session (closing its files) and releases the registered memory. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    String where = hostPort(address());
    fence.close(); // first: a local open waiting on a recall goes on now, not at the lease
    endpoints.forEach(Endpoint::stopAccepting);
    shutdownThreads();
    for (ServerSession s : sessions.removeAll()) {
      s.end(export.handles(), delegations);
    }
    exported.close();
    endpoints.forEach(Endpoint::close);
    export.handles().close(); // last: a receive thread may answer a cheap request until its endpoint closes
    // Nobody is forgotten: the clients of the sessions just ended reclaim when the server starts again.
    records.close();
    log.info("server on {} stopped", where);
  }

  private void shutdownThreads() {
    housekeeping.shutdownNow();
    workers.shutdown();
    try {
      if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      workers.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  static String hostPort(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  private static java.util.concurrent.ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
