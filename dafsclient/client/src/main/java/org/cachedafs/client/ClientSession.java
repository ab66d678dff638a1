package org.cachedafs.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntUnaryOperator;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.cachedafs.protocol.Body;
import org.cachedafs.protocol.Codec;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Frame;
import org.cachedafs.protocol.FrameHeader;
import org.cachedafs.protocol.FrameKind;
import org.cachedafs.protocol.FsStats;
import org.cachedafs.protocol.Handshake;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.MalformedFrameException;
import org.cachedafs.protocol.Opcode;
import org.cachedafs.protocol.Replies;
import org.cachedafs.protocol.Replies.Attrs;
import org.cachedafs.protocol.Replies.Challenge;
import org.cachedafs.protocol.Replies.Count;
import org.cachedafs.protocol.Replies.DirPage;
import org.cachedafs.protocol.Replies.HandleAttrs;
import org.cachedafs.protocol.Replies.LockTest;
import org.cachedafs.protocol.Replies.Opened;
import org.cachedafs.protocol.Replies.ReadData;
import org.cachedafs.protocol.Replies.SessionGranted;
import org.cachedafs.protocol.Replies.StatFs;
import org.cachedafs.protocol.RegionDescriptor;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Requests.Request;
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
import org.slf4j.LoggerFactory;

/**
 * The session implementation: request pipeline over credit slots, reply matching, reconnect with
 * retransmission, and lease renewal.
 *
 * <p>Every request waiting for its reply is in {@link #outstanding}. A reconnect binds a new
 * connection to the session and sends every outstanding request again with its original slot,
 * sequence and request id; the server answers those it already ran from its reply cache.
 */
final class ClientSession extends DafsSession implements ConnectionHandler {
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration DESTROY_TIMEOUT = Duration.ofSeconds(5);

  private final Transport transport;
  private final InetSocketAddress address;
  private final ClientOptions options;
  private final byte[] secret;
  private final MemoryDomain domain;
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong nextRequestId = new AtomicLong(1);
  private final Map<Long, Outstanding> outstanding = new ConcurrentHashMap<>();
  /** Senders hold the read lock; swapping the connection takes the write lock. */
  private final ReentrantReadWriteLock connectionLock = new ReentrantReadWriteLock();
  private final ScheduledExecutorService timer;
  private final ThreadLocal<Boolean> onReceiveThread = ThreadLocal.withInitial(() -> Boolean.FALSE);
  private final LongAdder sent = new LongAdder();
  private final LongAdder retransmissions = new LongAdder();
  private final LongAdder reconnects = new LongAdder();
  private final CallbackDispatcher callbacks;
  /** Sends requests started on the receive thread (a reply freed a slot, or a continuation made a call). */
  private final ExecutorService sender;

  private volatile Connection connection;
  private volatile CreditSlots slots;
  private volatile long sessionId;
  /** Agreed in SESSION_CREATE and never sent: a reconnect proves it to bind (see {@link Handshake}). */
  private volatile byte[] sessionKey;
  private volatile FileHandle root;
  private volatile int leaseMillis;
  private volatile DafsException dead;
  private volatile boolean closing;
  private volatile RecallListener recallListener;

  /** A request waiting for its reply. */
  private static final class Outstanding {
    final long id;
    final Opcode op;
    final Request body;
    /** The connection a handshake request belongs to; null for session requests. */
    final Connection pinned;
    final CompletableFuture<Body> result = new CompletableFuture<>();
    volatile int slot = -1;
    volatile ByteBuffer encoded;
    int delays;

    Outstanding(long id, Opcode op, Request body, Connection pinned) {
      this.id = id;
      this.op = op;
      this.body = body;
      this.pinned = pinned;
    }
  }

  ClientSession(Transport transport, InetSocketAddress address, ClientOptions options) {
    this.transport = transport;
    this.address = address;
    this.options = options;
    this.secret = options.secret();
    this.domain = transport.openDomain();
    this.leaseMillis = (int) Math.min(Integer.MAX_VALUE, options.lease().toMillis());
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "dafs-session-timer");
      t.setDaemon(true);
      return t;
    });
    this.callbacks = new CallbackDispatcher(this);
    this.sender = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dafs-sender");
      t.setDaemon(true);
      return t;
    });
  }

  /** Connects, authenticates and creates the session; on failure releases everything. */
  void start() throws IOException {
    Connection c = null;
    try {
      c = transport.connect(address, domain, this);
      handshake(c, false);
      connectionLock.writeLock().lock();
      try {
        connection = c;
      } finally {
        connectionLock.writeLock().unlock();
      }
      long period = Math.max(1, leaseMillis / 3);
      timer.scheduleAtFixedRate(this::renewQuietly, period, period, TimeUnit.MILLISECONDS);
    } catch (IOException | RuntimeException e) {
      closing = true;
      if (c != null) {
        c.close();
      }
      timer.shutdownNow();
      callbacks.shutdown();
      sender.shutdownNow();
      domain.close();
      throw e;
    }
  }

  // --- handshake -------------------------------------------------------------------------------

  private void handshake(Connection c, boolean bind) throws DafsException {
    String name = options.clientName();
    Challenge challenge = (Challenge) exchange(c, Opcode.AUTH_INIT, new Requests.AuthInit(name));
    byte[] serverNonce = challenge.serverNonce();
    byte[] clientNonce = Handshake.nonce(random);
    if (bind) {
      byte[] key = sessionKey;
      SessionGranted granted = (SessionGranted) exchange(c, Opcode.SESSION_BIND,
          new Requests.SessionBind(sessionId, clientNonce, Handshake.bindProof(key, serverNonce, clientNonce, sessionId)));
      if (!Handshake.matches(Handshake.boundProof(key, serverNonce, clientNonce, sessionId), granted.serverProof())
          || granted.sessionId() != sessionId) {
        throw new DafsException(Status.AUTH_FAILED, "the server did not prove it holds this session's key");
      }
      leaseMillis = granted.leaseMillis();
      return;
    }
    KeyPair ephemeral = Handshake.ephemeral();
    byte[] clientShare = Handshake.share(ephemeral);
    byte[] proof = Handshake.clientProof(secret, serverNonce, clientNonce, name, clientShare);
    SessionGranted granted = (SessionGranted) exchange(c, Opcode.SESSION_CREATE,
        new Requests.SessionCreate(clientNonce, clientShare, proof, Math.min(options.credits(), Limits.MAX_CREDITS), leaseMillis));
    byte[] expected = Handshake.serverProof(secret, serverNonce, clientNonce, name, clientShare, granted.serverShare());
    if (!Handshake.matches(expected, granted.serverProof())) {
      throw new DafsException(Status.AUTH_FAILED, "the server did not prove it knows the secret");
    }
    byte[] agreed;
    try {
      agreed = Handshake.agree(ephemeral, granted.serverShare());
    } catch (IllegalArgumentException e) {
      throw new DafsException(Status.AUTH_FAILED, "the server's key share is unusable: " + e.getMessage());
    }
    sessionKey = Handshake.sessionKey(secret, agreed, serverNonce, clientNonce, name);
    sessionId = granted.sessionId();
    slots = new CreditSlots(granted.credits());
    root = granted.root();
    leaseMillis = granted.leaseMillis();
  }

  /** One handshake request on a connection that is not yet the session's. */
  private Body exchange(Connection c, Opcode op, Request body) throws DafsException {
    Outstanding o = new Outstanding(nextRequestId.getAndIncrement(), op, body, c);
    o.encoded = Codec.encode(FrameHeader.request(op, o.id, 0, -1, 0), body);
    outstanding.put(o.id, o);
    try {
      c.send(o.encoded);
      return o.result.get(HANDSHAKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (IOException e) {
      throw new DafsException(Status.CONNECTION_LOST, "during " + op, e);
    } catch (ExecutionException e) {
      throw asDafs(e.getCause());
    } catch (TimeoutException e) {
      throw new DafsException(Status.TIMEDOUT, "no answer to " + op + " within " + HANDSHAKE_TIMEOUT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DafsException(Status.IO, "interrupted during " + op);
    } finally {
      outstanding.remove(o.id, o);
    }
  }

  // --- the request pipeline --------------------------------------------------------------------

  <T> CompletableFuture<T> call(Opcode op, Request body, Class<T> replyType) {
    return call(op, body).thenApply(replyType::cast);
  }

  CompletableFuture<Body> call(Opcode op, Request body) {
    Outstanding o = new Outstanding(nextRequestId.getAndIncrement(), op, body, null);
    DafsException refused = NameChecks.refusal(body);
    DafsException d = refused != null ? refused : dead;
    if (d != null) {
      o.result.completeExceptionally(d);
    } else if (op.sequenced()) {
      slots.submit((slot, seq) -> begin(o, slot, seq));
    } else {
      begin(o, -1, 0);
    }
    return o.result;
  }

  private void begin(Outstanding o, int slot, int sequence) {
    if (onReceiveThread.get()) {
      // The receive thread must not send (see ConnectionHandler): hand the request over.
      try {
        sender.execute(() -> begin(o, slot, sequence));
        return;
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // The session is closing: fall through and fail it below.
      }
    }
    DafsException d = dead;
    if (d != null) {
      if (slot >= 0) {
        slots.release(slot);
      }
      o.result.completeExceptionally(d);
      return;
    }
    o.slot = slot;
    o.encoded = Codec.encode(FrameHeader.request(o.op, o.id, sessionId, slot, sequence), o.body);
    connectionLock.readLock().lock();
    try {
      outstanding.put(o.id, o);
      Connection c = connection;
      if (c != null) {
        c.send(o.encoded);
        sent.increment();
      }
    } catch (IOException e) {
      // The connection is gone; the reconnect sends every outstanding request again.
      log.debug("send of {} failed, waiting for the reconnect", o.op, e);
    } finally {
      connectionLock.readLock().unlock();
    }
  }

  private void retransmit(Outstanding o) {
    connectionLock.readLock().lock();
    try {
      Connection c = connection;
      if (c != null && outstanding.get(o.id) == o) {
        c.send(o.encoded);
        sent.increment();
        retransmissions.increment();
      }
    } catch (IOException e) {
      log.debug("retransmission of {} failed, waiting for the reconnect", o.op, e);
    } finally {
      connectionLock.readLock().unlock();
    }
  }

  @Override
  public void onMessage(Connection c, Received received) {
    // Replies and callbacks outlive this call (a waiting caller reads its data later), so they take
    // the message into memory of their own; the provider gets its buffer back at once.
    ByteBuffer message = received.detach();
    onReceiveThread.set(Boolean.TRUE);
    try {
      FrameHeader h;
      try {
        h = Codec.decodeHeader(message);
      } catch (MalformedFrameException e) {
        log.warn("closing connection to {}: malformed frame from server: {}", c.remoteAddress(), e.getMessage());
        c.close();
        return;
      }
      if (h.kind() == FrameKind.CALLBACK) {
        callbacks.dispatch(c, h, message);
      } else if (h.kind() == FrameKind.REPLY) {
        onReply(c, h, message);
      } else {
        log.warn("ignoring a {} frame from the server", h.kind());
      }
    } finally {
      onReceiveThread.set(Boolean.FALSE);
    }
  }

  private void onReply(Connection c, FrameHeader h, ByteBuffer message) {
    Outstanding o = outstanding.get(h.requestId());
    if (o == null || (o.pinned != null && o.pinned != c)) {
      return; // a late answer to something already answered or abandoned
    }
    if (h.status() == Status.DELAY && o.slot >= 0) {
      // The server is still running the original of a retransmitted request: ask again shortly.
      long backoff = Math.min(1000, 5L << Math.min(8, o.delays++));
      timer.schedule(() -> retransmit(o), backoff, TimeUnit.MILLISECONDS);
      return;
    }
    if (!outstanding.remove(h.requestId(), o)) {
      return;
    }
    if (o.slot >= 0) {
      slots.release(o.slot);
    }
    try {
      Body body = Codec.decodeBody(h, message);
      if (h.status() == Status.OK) {
        o.result.complete(body);
      } else {
        o.result.completeExceptionally(new DafsException(h.status(), ((Replies.Error) body).message()));
      }
    } catch (MalformedFrameException e) {
      o.result.completeExceptionally(new DafsException(Status.BADXDR, "malformed reply to " + o.op + ": " + e.getMessage()));
    }
  }

  /** Sends a callback's reply on the connection it came in on. */
  void replyToCallback(Connection c, FrameHeader h, Status status, Body body) {
    try {
      c.send(Codec.encode(h.reply(status), body));
    } catch (IOException e) {
      log.debug("could not answer callback {}", h.op(), e);
    }
  }

  @Override
  public void setRecallListener(RecallListener listener) {
    this.recallListener = listener;
  }

  RecallListener recallListener() {
    return recallListener;
  }

  @Override
  public void onClosed(Connection c, Throwable cause) {
    for (Outstanding o : outstanding.values()) {
      if (o.pinned == c && outstanding.remove(o.id, o)) {
        o.result.completeExceptionally(new DafsException(Status.CONNECTION_LOST, "during " + o.op, cause));
      }
    }
    connectionLock.writeLock().lock();
    try {
      if (connection != c) {
        return;
      }
      connection = null;
    } finally {
      connectionLock.writeLock().unlock();
    }
    if (closing || dead != null) {
      return;
    }
    log.info("connection to {} lost ({}); reconnecting", address, cause == null ? "closed" : cause.toString());
    timer.execute(this::reconnect);
  }

  private void reconnect() {
    long deadline = System.nanoTime() + options.reconnectTimeout().toNanos();
    long backoff = 10;
    DafsException last = null;
    while (!closing && System.nanoTime() < deadline) {
      Connection c = null;
      try {
        c = transport.connect(address, domain, this);
        handshake(c, true);
        connectionLock.writeLock().lock();
        try {
          connection = c;
          List<Outstanding> again = new ArrayList<>();
          for (Outstanding o : outstanding.values()) {
            if (o.pinned == null && o.encoded != null) {
              again.add(o);
            }
          }
          again.sort(Comparator.comparingLong(o -> o.id));
          for (Outstanding o : again) {
            c.send(o.encoded);
            sent.increment();
            retransmissions.increment();
          }
        } finally {
          connectionLock.writeLock().unlock();
        }
        reconnects.increment();
        log.info("reconnected to {} and bound session {}", address, Long.toHexString(sessionId));
        return;
      } catch (DafsException e) {
        if (c != null) {
          c.close();
        }
        if (e.status() == Status.BADSESSION || e.status() == Status.EXPIRED || e.status() == Status.AUTH_FAILED) {
          die(new DafsException(e.status(), "the session could not be resumed after a reconnect", e));
          return;
        }
        last = e;
      } catch (IOException e) {
        if (c != null) {
          c.close();
        }
        last = new DafsException(Status.CONNECTION_LOST, e.toString(), e);
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        return;
      }
      backoff = Math.min(1000, backoff * 2);
    }
    if (!closing) {
      die(new DafsException(Status.CONNECTION_LOST, "no reconnect to " + address + " within " + options.reconnectTimeout(), last));
    }
  }

  /** The session cannot go on: every request, outstanding or waiting, fails with {@code cause}. */
  private void die(DafsException cause) {
    if (dead != null) {
      return;
    }
    dead = cause;
    for (Outstanding o : outstanding.values()) {
      if (outstanding.remove(o.id, o)) {
        o.result.completeExceptionally(cause);
      }
    }
    CreditSlots s = slots;
    if (s != null) {
      s.drainWaiting().forEach(start -> start.start(-1, 0));
    }
    Connection c = connection;
    if (c != null) {
      c.close();
    }
    if (!closing) {
      log.warn("session {} with {} failed: {}", Long.toHexString(sessionId), address, cause.getMessage());
      RecallListener l = recallListener;
      if (l != null) {
        try {
          l.sessionLost(cause);
        } catch (RuntimeException e) {
          log.warn("recall listener failed on session loss", e);
        }
      }
    }
  }

  private void renewQuietly() {
    renewAsync().whenComplete((v, e) -> {
      Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof DafsException de && (de.status() == Status.BADSESSION || de.status() == Status.EXPIRED)) {
        die(de);
      }
    });
  }

  @Override
  <T> T await(CompletableFuture<T> future) throws DafsException {
    if (onReceiveThread.get()) {
      throw new IllegalStateException("a blocking DAFS call on the transport's receive thread would deadlock; use the async form");
    }
    try {
      return future.get(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw asDafs(cause);
    } catch (TimeoutException e) {
      throw new DafsException(Status.TIMEDOUT, "no reply within " + options.requestTimeout());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DafsException(Status.IO, "interrupted while waiting for the server");
    }
  }

  private static DafsException asDafs(Throwable t) {
    if (t instanceof DafsException d) {
      return d;
    }
    return new DafsException(Status.IO, String.valueOf(t), t);
  }

  private static <T> CompletableFuture<T> invalid(String message) {
    return CompletableFuture.failedFuture(new DafsException(Status.INVAL, message));
  }

  // --- session accessors -----------------------------------------------------------------------

  @Override
  public FileHandle root() {
    return root;
  }

  @Override
  public long sessionId() {
    return sessionId;
  }

  @Override
  public int credits() {
    return slots.credits();
  }

  @Override
  public Duration lease() {
    return Duration.ofMillis(leaseMillis);
  }

  @Override
  public SessionStats stats() {
    CreditSlots s = slots;
    return new SessionStats(sent.sum(), retransmissions.sum(), reconnects.sum(), s.inFlight(), s.maxInFlight(), s.credits(), domain.stats());
  }

  @Override
  public boolean isOpen() {
    return !closing && dead == null;
  }

  @Override
  public Optional<DafsException> failure() {
    return Optional.ofNullable(dead);
  }

  @Override
  public Region register(ByteBuffer directBuffer) {
    return domain.register(directBuffer, Access.REMOTE_READ_WRITE);
  }

  @Override
  public Region allocate(int length) {
    return domain.allocate(length, Access.REMOTE_READ_WRITE);
  }

  // --- operations ------------------------------------------------------------------------------

  @Override
  public CompletableFuture<HandleAttrs> lookupAsync(FileHandle dir, String path) {
    return call(Opcode.LOOKUP, new Requests.Lookup(dir, path), HandleAttrs.class);
  }

  @Override
  public CompletableFuture<FileAttributes> getattrAsync(FileHandle handle) {
    return call(Opcode.GETATTR, new Requests.HandleArg(handle, false), Attrs.class).thenApply(Attrs::attributes);
  }

  @Override
  public CompletableFuture<FileAttributes> setattrAsync(FileHandle handle, OpenFile through, SetAttributes attributes) {
    long state = through == null ? 0 : through.stateId();
    return call(Opcode.SETATTR, new Requests.SetAttr(handle, state, attributes), Attrs.class).thenApply(Attrs::attributes);
  }

  @Override
  public CompletableFuture<HandleAttrs> createAsync(FileHandle dir, String name, int mode, boolean exclusive) {
    return call(Opcode.CREATE, new Requests.Entry(dir, name, mode, exclusive), HandleAttrs.class);
  }

  @Override
  public CompletableFuture<HandleAttrs> mkdirAsync(FileHandle dir, String name, int mode) {
    return call(Opcode.MKDIR, new Requests.Entry(dir, name, mode, false), HandleAttrs.class);
  }

  @Override
  public CompletableFuture<Void> removeAsync(FileHandle dir, String name) {
    return call(Opcode.REMOVE, new Requests.Entry(dir, name, 0, false)).thenApply(b -> null);
  }

  @Override
  public CompletableFuture<Void> rmdirAsync(FileHandle dir, String name) {
    return call(Opcode.RMDIR, new Requests.Entry(dir, name, 0, false)).thenApply(b -> null);
  }

  @Override
  public CompletableFuture<Void> renameAsync(FileHandle fromDir, String fromName, FileHandle toDir, String toName) {
    return call(Opcode.RENAME, new Requests.Rename(fromDir, fromName, toDir, toName)).thenApply(b -> null);
  }

  @Override
  public CompletableFuture<DirPage> readdirAsync(FileHandle dir, long cookie, int maxEntries) {
    return call(Opcode.READDIR, new Requests.ReadDir(dir, cookie, maxEntries), DirPage.class);
  }

  @Override
  public CompletableFuture<FsStats> statfsAsync(FileHandle handle) {
    return call(Opcode.STATFS, new Requests.HandleArg(handle, false), StatFs.class).thenApply(StatFs::stats);
  }

  @Override
  public CompletableFuture<OpenFile> openAsync(FileHandle dir, String name, OpenMode mode) {
    int flags = recallListener == null ? mode.flags() | Requests.Open.NO_DELEGATION : mode.flags();
    return call(Opcode.OPEN, new Requests.Open(dir, name, mode.access(), mode.deny(), flags, mode.mode()), Opened.class)
        .thenApply(o -> new OpenFile(o.handle(), o.stateId(), mode, o.attributes(), o.delegation(), o.delegationId()));
  }

  @Override
  public CompletableFuture<Void> closeAsync(OpenFile file) {
    return call(Opcode.CLOSE, new Requests.StateArg(file.stateId())).thenApply(b -> null);
  }

  @Override
  public CompletableFuture<Integer> readAsync(OpenFile file, long offset, ByteBuffer dst) {
    int total = dst.remaining();
    if (offset < 0 || offset > Long.MAX_VALUE - total) {
      return invalid("read at offset " + offset);
    }
    int start = dst.position();
    int chunks = (total + Limits.MAX_INLINE - 1) / Limits.MAX_INLINE;
    if (chunks == 0) {
      return CompletableFuture.completedFuture(0);
    }
    List<CompletableFuture<Integer>> parts = new ArrayList<>(chunks);
    for (int i = 0; i < chunks; i++) {
      int at = i * Limits.MAX_INLINE;
      int len = Math.min(Limits.MAX_INLINE, total - at);
      parts.add(call(Opcode.READ, new Requests.Read(file.stateId(), offset + at, len), ReadData.class).thenApply(rd -> {
        ByteBuffer data = rd.data();
        if (data.remaining() > len) {
          throw new IllegalStateException("server returned " + data.remaining() + " bytes for a read of " + len);
        }
        int n = data.remaining();
        dst.duplicate().position(start + at).put(data);
        return n;
      }));
    }
    return sumUntilShort(parts, Limits.MAX_INLINE, total).thenApply(n -> {
      dst.position(start + n);
      return n;
    });
  }

  @Override
  public CompletableFuture<Integer> writeAsync(OpenFile file, long offset, ByteBuffer src) {
    int total = src.remaining();
    if (offset < 0 || offset > Long.MAX_VALUE - total) {
      return invalid("write at offset " + offset);
    }
    int start = src.position();
    int chunks = Math.max(1, (total + Limits.MAX_INLINE - 1) / Limits.MAX_INLINE);
    List<CompletableFuture<Integer>> parts = new ArrayList<>(chunks);
    for (int i = 0; i < chunks; i++) {
      int at = i * Limits.MAX_INLINE;
      int len = Math.min(Limits.MAX_INLINE, total - at);
      ByteBuffer piece = src.slice(start + at, len);
      parts.add(call(Opcode.WRITE, new Requests.Write(file.stateId(), offset + at, piece), Count.class).thenApply(Count::count));
    }
    return sumUntilShort(parts, Limits.MAX_INLINE, total).thenApply(n -> {
      src.position(start + n);
      return n;
    });
  }

  @Override
  public CompletableFuture<Integer> readDirectAsync(OpenFile file, long offset, Region region, int regionOffset, int length) {
    return direct(Opcode.READ_DIRECT, file, offset, region, regionOffset, length);
  }

  @Override
  public CompletableFuture<Integer> writeDirectAsync(OpenFile file, long offset, Region region, int regionOffset, int length) {
    return direct(Opcode.WRITE_DIRECT, file, offset, region, regionOffset, length);
  }

  private CompletableFuture<Integer> direct(Opcode op, OpenFile file, long offset, Region region, int regionOffset, int length) {
    if (!region.belongsTo(domain)) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(region + " is not registered with this session"));
    }
    if (regionOffset < 0 || length < 0 || regionOffset > region.length() - length) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(length + " bytes at " + regionOffset + " lie outside " + region));
    }
    if (offset < 0 || offset > Long.MAX_VALUE - length) {
      return invalid(op + " at offset " + offset);
    }
    int chunks = Math.max(1, (length + Limits.MAX_DIRECT - 1) / Limits.MAX_DIRECT);
    List<CompletableFuture<Integer>> parts = new ArrayList<>(chunks);
    for (int i = 0; i < chunks; i++) {
      int at = i * Limits.MAX_DIRECT;
      int len = Math.min(Limits.MAX_DIRECT, length - at);
      Requests.Direct d = new Requests.Direct(file.stateId(), offset + at, len, descriptor(region), regionOffset + (long) at);
      parts.add(call(op, d, Count.class).thenApply(Count::count));
    }
    return sumUntilShort(parts, Limits.MAX_DIRECT, length);
  }

  private static RegionDescriptor descriptor(Region region) {
    return RegionDescriptor.of(region.remote().toBytes());
  }

  @Override
  public CompletableFuture<Integer> readDirectVAsync(OpenFile file, long offset, List<Segment> segments) {
    long total = 0;
    for (Segment sg : segments) {
      Region region = sg.region();
      if (!region.belongsTo(domain)) {
        return CompletableFuture.failedFuture(new IllegalArgumentException(region + " is not registered with this session"));
      }
      if (sg.regionOffset() < 0 || sg.length() < 0 || sg.regionOffset() > region.length() - sg.length()) {
        return CompletableFuture.failedFuture(new IllegalArgumentException(sg.length() + " bytes at " + sg.regionOffset() + " lie outside " + region));
      }
      total += sg.length();
    }
    if (total > Integer.MAX_VALUE) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("segments of " + total + " bytes in all"));
    }
    if (offset < 0 || offset > Long.MAX_VALUE - total) {
      return invalid(Opcode.READ_DIRECT_V + " at offset " + offset);
    }
    // Requests within the wire's limits, each a run of whole segments where they fit; a segment too
    // long for what is left of one request is cut, and empty segments are left out.
    List<CompletableFuture<Integer>> parts = new ArrayList<>();
    List<Integer> lengths = new ArrayList<>();
    List<Requests.Segment> piece = new ArrayList<>();
    int pieceBytes = 0;
    long at = 0;
    for (Segment sg : segments) {
      int done = 0;
      while (done < sg.length()) {
        int n = Math.min(sg.length() - done, Limits.MAX_DIRECT - pieceBytes);
        piece.add(new Requests.Segment(descriptor(sg.region()), sg.regionOffset() + (long) done, n));
        pieceBytes += n;
        done += n;
        if (piece.size() == Limits.MAX_SEGMENTS || pieceBytes == Limits.MAX_DIRECT) {
          parts.add(call(Opcode.READ_DIRECT_V, new Requests.DirectV(file.stateId(), offset + at, piece), Count.class).thenApply(Count::count));
          lengths.add(pieceBytes);
          at += pieceBytes;
          piece = new ArrayList<>();
          pieceBytes = 0;
        }
      }
    }
    if (!piece.isEmpty()) {
      parts.add(call(Opcode.READ_DIRECT_V, new Requests.DirectV(file.stateId(), offset + at, piece), Count.class).thenApply(Count::count));
      lengths.add(pieceBytes);
    }
    if (parts.isEmpty()) {
      return CompletableFuture.completedFuture(0);
    }
    return sumUntilShort(parts, lengths::get);
  }

  /** The bytes moved by consecutive chunks of {@code chunk} bytes, up to and including the first short one. */
  private static CompletableFuture<Integer> sumUntilShort(List<CompletableFuture<Integer>> parts, int chunk, int total) {
    return sumUntilShort(parts, i -> Math.min(chunk, total - i * chunk));
  }

  /** The bytes moved by consecutive parts, part i asking for {@code asked(i)}, up to and including the first short one. */
  private static CompletableFuture<Integer> sumUntilShort(List<CompletableFuture<Integer>> parts, IntUnaryOperator asked) {
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
      int sum = 0;
      for (int i = 0; i < parts.size(); i++) {
        int n = parts.get(i).join();
        sum += n;
        if (n < asked.applyAsInt(i)) {
          break;
        }
      }
      return sum;
    });
  }

  @Override
  public CompletableFuture<Void> fsyncAsync(FileHandle handle, boolean dataOnly) {
    return call(Opcode.FSYNC, new Requests.HandleArg(handle, dataOnly)).thenApply(b -> null);
  }

  @Override
  public CompletableFuture<Void> lockAsync(OpenFile file, LockRange range) {
    return call(Opcode.LOCK, new Requests.Lock(file.stateId(), file.handle(), range)).thenApply(b -> null);
  }

  @Override
  public CompletableFuture<Optional<LockRange>> testLockAsync(FileHandle handle, LockRange range) {
    return call(Opcode.LOCKT, new Requests.Lock(0, handle, range), LockTest.class).thenApply(t -> Optional.ofNullable(t.conflict()));
  }

  @Override
  public CompletableFuture<Void> unlockAsync(OpenFile file, LockRange range) {
    return call(Opcode.LOCKU, new Requests.Lock(file.stateId(), file.handle(), range)).thenApply(b -> null);
  }

  @Override
  public CompletableFuture<Void> returnDelegationAsync(long delegationId, FileHandle handle) {
    return call(Opcode.DELEGRETURN, new Requests.Delegation(delegationId, handle)).thenApply(b -> null);
  }

  @Override
  public CompletableFuture<Void> renewAsync() {
    return call(Opcode.SESSION_RENEW, Requests.NoArgs.INSTANCE, Replies.Renewed.class).thenApply(r -> {
      RecallListener l = recallListener;
      if (l != null && !r.revokedDelegations().isEmpty()) {
        // Off the receive thread: the listener drops cached state, which may take locks.
        callbacks.run(() -> r.revokedDelegations().forEach(l::revoked));
      }
      return null;
    });
  }

  @Override
  public void close() {
    if (closing) {
      return;
    }
    // Set first: the server closes the connection right after answering SESSION_DESTROY, and that
    // close must not start a reconnect.
    closing = true;
    if (dead == null && connection != null) {
      try {
        call(Opcode.SESSION_DESTROY, Requests.NoArgs.INSTANCE).get(DESTROY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        log.debug("destroying session {}", Long.toHexString(sessionId), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    die(new DafsException(Status.BADSESSION, "the session is closed"));
    timer.shutdownNow();
    callbacks.shutdown();
    sender.shutdownNow();
    domain.close();
  }

  /** Decodes a callback body; null if malformed (the caller answers BADXDR). */
  static Frame decodeCallback(FrameHeader h, ByteBuffer message) {
    try {
      return new Frame(h, Codec.decodeBody(h, message));
    } catch (MalformedFrameException e) {
      return null;
    }
  }
}
