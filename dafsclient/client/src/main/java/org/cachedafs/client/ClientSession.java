package org.cachedafs.client;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FsStats;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies.Attrs;
import org.cachedafs.protocol.Replies.DirPage;
import org.cachedafs.protocol.Replies.HandleAttrs;
import org.cachedafs.protocol.Replies.LockTest;
import org.cachedafs.protocol.Replies.Opened;
import org.cachedafs.protocol.Replies.StatFs;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.Transport;
import org.slf4j.Logger;

/**
 * The session: each {@link DafsSession} operation as a request, and the parts that carry it.
 *
 * <ul>
 *   <li>{@link RequestPipeline}: slots, sending, reply matching, DELAY back-off, retransmission;
 *   <li>{@link ClientHandshake}: creating the session, and binding a new connection to it;
 *   <li>{@link Link}: the connection, its loss, the reconnect, and the session's death;
 *   <li>{@link LeaseRenewer}: the lease, and the revocations its renewals report;
 *   <li>{@link TransferSplitter}: reads and writes cut to the wire's limits;
 *   <li>{@link CallbackDispatcher}: the server's callbacks and the {@link RecallListener};
 *   <li>{@link HeldState} and {@link Recovery}: what the session holds, and taking it back after a
 *       server restart.
 * </ul>
 *
 * <p>Replies are converted here, at the API's edge, so no wire record reaches the application.
 */
final class ClientSession extends DafsSession implements ConnectionHandler {
  private static final Logger log = Loggers.get(ClientSession.class);
  private static final Duration DESTROY_TIMEOUT = Duration.ofSeconds(5);

  private final ClientOptions options;
  /** The bootstrap transport's domain; the session's own may be the move's ({@link Link#domain}). */
  private final MemoryDomain domain;
  private final TransportMove move;
  /**
   * Shared by the DELAY back-off, the reconnect and the lease renewals. The reconnect holds it while
   * it runs, which costs nothing: without a connection the others could not send anyway.
   */
  private final ScheduledExecutorService timer;
  private final CallbackDispatcher callbacks;
  private final RequestPipeline pipeline;
  private final ClientHandshake handshake;
  private final Link link;
  private final LeaseRenewer lease;
  private final LeaseClock leaseClock;
  private final TransferSplitter transfers;
  private final HeldState held = new HeldState();
  private final Recovery recovery;
  /** ODAFS, or null when {@link ClientOptions#optimisticReads} is off. */
  private final OptimisticReads odafs;

  ClientSession(Transport transport, SocketAddress address, ClientOptions options, TransportMove move) {
    this.options = options;
    this.move = move;
    this.domain = transport.openDomain();
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "dafs-session-timer");
      t.setDaemon(true);
      return t;
    });
    this.callbacks = new CallbackDispatcher(this);
    this.leaseClock = new LeaseClock();
    this.pipeline = new RequestPipeline(timer, callbacks, leaseClock);
    this.handshake = new ClientHandshake(options, pipeline, Link.name(address));
    leaseClock.leaseFrom(handshake::leaseMillis);
    this.recovery = new Recovery(pipeline, new Reclaimer(pipeline, held, options.requestTimeout()), callbacks, this::reclaimRefused, this::forgetServerMemory);
    this.link = new Link(transport, address, domain, options, this, handshake, pipeline, callbacks, timer, move, recovery);
    this.lease = new LeaseRenewer(pipeline, callbacks, link, timer, held);
    this.transfers = new TransferSplitter(pipeline, link::domain);
    this.odafs = options.optimisticReads() ? new OptimisticReads(pipeline::connection, link::domain) : null;
  }

  /** The reclaim after a restart was refused: the session cannot go on. */
  private void reclaimRefused(DafsException cause) {
    link.die(cause);
  }

  /** The server restarted: references to its exported cache name memory of a server that is gone. */
  private void forgetServerMemory() {
    if (odafs != null) {
      odafs.forgetAll();
    }
  }

  /** Connects, authenticates and creates the session; on failure releases everything. */
  void start() throws IOException {
    long began = System.nanoTime();
    try {
      link.open();
    } catch (IOException | RuntimeException e) {
      releaseResources();
      throw e;
    }
    lease.start(handshake.leaseMillis());
    // The lease began when the create arrived, after this; the granted lease is known only now.
    leaseClock.heard(began);
    leaseClock.start();
  }

  private void releaseResources() {
    leaseClock.stop();
    timer.shutdownNow();
    recovery.shutdown();
    callbacks.shutdown();
    pipeline.shutdown();
    move.close();
    domain.close();
  }

  @Override
  public void onMessage(Connection c, Received received) {
    pipeline.receive(c, received);
  }

  @Override
  public void onClosed(Connection c, Throwable cause) {
    link.onClosed(c, cause);
  }

  @Override
  public void setRecallListener(RecallListener listener) {
    callbacks.setListener(listener);
  }

  @Override
  <T> T await(CompletableFuture<T> future) throws DafsException {
    if (pipeline.onReceiveThread()) {
      throw new IllegalStateException("a blocking DAFS call on the transport's receive thread would deadlock; use the async form");
    }
    try {
      return future.get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw DafsException.of(cause);
    } catch (TimeoutException e) {
      throw new DafsException(Status.TIMEDOUT, "no reply within " + options.requestTimeout());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DafsException(Status.IO, "interrupted while waiting for the server");
    }
  }

  // --- session accessors -----------------------------------------------------------------------

  @Override
  public FileHandle root() {
    return handshake.root();
  }

  @Override
  public long sessionId() {
    return pipeline.sessionId();
  }

  @Override
  public int credits() {
    return pipeline.slots().credits();
  }

  @Override
  public Duration lease() {
    return Duration.ofMillis(handshake.leaseMillis());
  }

  @Override
  public SessionStats stats() {
    CreditSlots s = pipeline.slots();
    return new SessionStats(pipeline.sent(), pipeline.retransmissions(), link.reconnects(), s.inFlight(), s.maxInFlight(), s.credits(), link.domain().stats(),
        recovery.restarts.sum(), recovery.lastReclaimNanos());
  }

  /** The request pipeline, for tests in this package that speak the protocol as a client could. */
  RequestPipeline pipeline() {
    return pipeline;
  }

  /** The reference tables, or null with optimistic reads off: for tests that hand it references as a hostile client could. */
  OptimisticReads optimisticReads() {
    return odafs;
  }

  @Override
  public OdafsStats odafsStats() {
    return odafs == null ? new OdafsStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) : odafs.stats();
  }

  @Override
  public boolean isOpen() {
    return !link.closing() && pipeline.failure() == null;
  }

  @Override
  public boolean leaseHeld() {
    return leaseClock.held() && pipeline.failure() == null;
  }

  @Override
  public String transport() {
    return link.moved() ? "shm" : "tcp";
  }

  @Override
  public Optional<DafsException> failure() {
    return Optional.ofNullable(pipeline.failure());
  }

  @Override
  public Region register(ByteBuffer directBuffer) {
    return link.domain().register(directBuffer, Access.REMOTE_READ_WRITE);
  }

  @Override
  public Region allocate(int length) {
    return link.domain().allocate(length, Access.REMOTE_READ_WRITE);
  }

  // --- operations ------------------------------------------------------------------------------

  @Override
  public CompletableFuture<Node> lookupAsync(FileHandle dir, String path) {
    return pipeline.call(Opcode.LOOKUP, new Requests.Lookup(dir, path), HandleAttrs.class).thenApply(ClientSession::node);
  }

  @Override
  public CompletableFuture<FileAttributes> getattrAsync(FileHandle handle) {
    return pipeline.call(Opcode.GETATTR, new Requests.HandleArg(handle, false), Attrs.class).thenApply(Attrs::attributes);
  }

  @Override
  public CompletableFuture<FileAttributes> setattrAsync(FileHandle handle, OpenFile through, SetAttributes attributes) {
    long state = through == null ? 0 : through.stateId();
    return pipeline.call(Opcode.SETATTR, new Requests.SetAttr(handle, state, attributes), Attrs.class).thenApply(Attrs::attributes);
  }

  @Override
  public CompletableFuture<Node> createAsync(FileHandle dir, String name, int mode, boolean exclusive) {
    return pipeline.call(Opcode.CREATE, new Requests.Entry(dir, name, mode, exclusive), HandleAttrs.class).thenApply(ClientSession::node);
  }

  @Override
  public CompletableFuture<Node> mkdirAsync(FileHandle dir, String name, int mode) {
    return pipeline.call(Opcode.MKDIR, new Requests.Entry(dir, name, mode, false), HandleAttrs.class).thenApply(ClientSession::node);
  }

  private static Node node(HandleAttrs reply) {
    return new Node(reply.handle(), reply.attributes());
  }

  @Override
  public CompletableFuture<Void> removeAsync(FileHandle dir, String name) {
    return done(pipeline.call(Opcode.REMOVE, new Requests.Entry(dir, name, 0, false)));
  }

  @Override
  public CompletableFuture<Void> rmdirAsync(FileHandle dir, String name) {
    return done(pipeline.call(Opcode.RMDIR, new Requests.Entry(dir, name, 0, false)));
  }

  @Override
  public CompletableFuture<Void> renameAsync(FileHandle fromDir, String fromName, FileHandle toDir, String toName) {
    return done(pipeline.call(Opcode.RENAME, new Requests.Rename(fromDir, fromName, toDir, toName)));
  }

  @Override
  public CompletableFuture<DirectoryPage> readdirAsync(FileHandle dir, long cookie, int maxEntries) {
    return pipeline.call(Opcode.READDIR, new Requests.ReadDir(dir, cookie, maxEntries), DirPage.class)
        .thenApply(p -> new DirectoryPage(p.entries(), p.nextCookie(), p.eof()));
  }

  @Override
  public CompletableFuture<FsStats> statfsAsync(FileHandle handle) {
    return pipeline.call(Opcode.STATFS, new Requests.HandleArg(handle, false), StatFs.class).thenApply(StatFs::stats);
  }

  @Override
  public CompletableFuture<OpenFile> openAsync(FileHandle dir, String name, OpenMode mode) {
    int flags = callbacks.hasListener() ? mode.flags() : mode.flags() | Requests.Open.NO_DELEGATION;
    return pipeline.call(Opcode.OPEN, new Requests.Open(dir, name, mode.access(), mode.deny(), flags, mode.mode()), Opened.class)
        .thenApply(o -> {
          OpenFile f = new OpenFile(o.handle(), o.stateId(), mode, o.attributes(), o.delegation(), o.delegationId());
          held.opened(f); // before the caller has it: a restart from now on reclaims it
          return f;
        });
  }

  @Override
  public CompletableFuture<Void> closeAsync(OpenFile file) {
    if (odafs != null) {
      odafs.forget(file.stateId());
    }
    // Held until answered, whatever the answer: an unanswered CLOSE that a restart cuts is sent again
    // after the reclaim, so the open must be reclaimed for it to close.
    return done(pipeline.call(Opcode.CLOSE, new Requests.StateArg(file.stateId())).whenComplete((b, e) -> held.closed(file.stateId())));
  }

  @Override
  public CompletableFuture<Integer> readAsync(OpenFile file, long offset, ByteBuffer dst) {
    if (odafs == null) {
      return transfers.read(file, offset, dst);
    }
    int start = dst.position();
    int length = dst.remaining();
    CompletableFuture<Boolean> tried = odafs.read(file.stateId(), offset, length,
        (image, at, n) -> dst.duplicate().position(start + at).put(image.duplicate().limit(image.position() + n)));
    if (tried == null) {
      return readByRpc(file, offset, dst);
    }
    return tried.thenCompose(ok -> {
      if (!ok) {
        return readByRpc(file, offset, dst);
      }
      dst.position(start + length);
      return CompletableFuture.completedFuture(length);
    });
  }

  /** An ODAFS read that could not be served optimistically: by RPC, bringing fresh references. */
  private CompletableFuture<Integer> readByRpc(OpenFile file, long offset, ByteBuffer dst) {
    odafs.fellBack();
    return transfers.read(file, offset, dst, Requests.Read.REFERENCES, refs -> odafs.absorb(file.stateId(), refs));
  }

  @Override
  public CompletableFuture<Integer> writeAsync(OpenFile file, long offset, ByteBuffer src) {
    return transfers.write(file, offset, src);
  }

  @Override
  public CompletableFuture<Integer> readDirectAsync(OpenFile file, long offset, Region region, int regionOffset, int length) {
    if (odafs == null || !region.belongsTo(link.domain()) || regionOffset < 0 || length < 0 || regionOffset > region.length() - length) {
      return transfers.direct(Opcode.READ_DIRECT, file, offset, region, regionOffset, length);
    }
    CompletableFuture<Boolean> tried = odafs.read(file.stateId(), offset, length,
        (image, at, n) -> region.buffer().position(regionOffset + at).put(image.duplicate().limit(image.position() + n)));
    if (tried == null) {
      return readDirectByRpc(file, offset, region, regionOffset, length);
    }
    return tried.thenCompose(ok -> ok ? CompletableFuture.completedFuture(length) : readDirectByRpc(file, offset, region, regionOffset, length));
  }

  private CompletableFuture<Integer> readDirectByRpc(OpenFile file, long offset, Region region, int regionOffset, int length) {
    odafs.fellBack();
    return transfers.direct(Opcode.READ_DIRECT, file, offset, region, regionOffset, length, Requests.Read.REFERENCES,
        refs -> odafs.absorb(file.stateId(), refs));
  }

  @Override
  public CompletableFuture<Integer> writeDirectAsync(OpenFile file, long offset, Region region, int regionOffset, int length) {
    return transfers.direct(Opcode.WRITE_DIRECT, file, offset, region, regionOffset, length);
  }

  @Override
  public CompletableFuture<Integer> readDirectVAsync(OpenFile file, long offset, List<Segment> segments) {
    return transfers.readDirectV(file, offset, segments);
  }

  @Override
  public CompletableFuture<Void> fsyncAsync(FileHandle handle, boolean dataOnly) {
    return done(pipeline.call(Opcode.FSYNC, new Requests.HandleArg(handle, dataOnly)));
  }

  @Override
  public CompletableFuture<Void> lockAsync(OpenFile file, LockRange range) {
    return done(pipeline.call(Opcode.LOCK, new Requests.Lock(file.stateId(), file.handle(), range)).thenApply(b -> {
      held.locked(file.handle(), range);
      return b;
    }));
  }

  @Override
  public CompletableFuture<Optional<LockRange>> testLockAsync(FileHandle handle, LockRange range) {
    return pipeline.call(Opcode.LOCKT, new Requests.Lock(0, handle, range), LockTest.class).thenApply(t -> Optional.ofNullable(t.conflict()));
  }

  @Override
  public CompletableFuture<Void> unlockAsync(OpenFile file, LockRange range) {
    return done(pipeline.call(Opcode.LOCKU, new Requests.Lock(file.stateId(), file.handle(), range)).thenApply(b -> {
      held.unlocked(file.handle(), range);
      return b;
    }));
  }

  @Override
  public CompletableFuture<Void> returnDelegationAsync(long delegationId, FileHandle handle) {
    // Returned, revoked or unknown to the server: whatever the answer, there is nothing left to reclaim.
    return done(pipeline.call(Opcode.DELEGRETURN, new Requests.Delegation(delegationId, handle)).whenComplete((b, e) -> held.delegationGone(delegationId)));
  }

  @Override
  public CompletableFuture<Void> renewAsync() {
    return lease.renew();
  }

  /** For operations whose reply says nothing but that they succeeded. */
  private static CompletableFuture<Void> done(CompletableFuture<?> reply) {
    return reply.thenApply(b -> null);
  }

  @Override
  public void close() {
    if (!link.beginClosing()) {
      return;
    }
    if (pipeline.failure() == null && pipeline.connected()) {
      try {
        pipeline.call(Opcode.SESSION_DESTROY, Requests.NoArgs.INSTANCE).get(DESTROY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        log.debug("destroying session {}", Long.toHexString(pipeline.sessionId()), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    link.die(new DafsException(Status.BADSESSION, "the session is closed"));
    releaseResources();
  }
}
