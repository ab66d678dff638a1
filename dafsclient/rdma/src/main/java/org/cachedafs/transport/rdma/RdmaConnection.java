package org.cachedafs.transport.rdma;

import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.IbvWC;
import com.ibm.disni.verbs.RdmaCmId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.Capabilities;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.QueueWaiters;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteAccessException;
import org.cachedafs.transport.RemoteRegion;
import org.slf4j.Logger;

/**
 * One RC queue pair as a {@link Connection}.
 *
 * <ul>
 *   <li>Messages: a send is copied into a free staging buffer and posted as a SEND; the peer's
 *       messages land in posted receive buffers, handed to the handler as {@link Received} and
 *       posted again when it releases or detaches them (the SPI's release contract). A peer that
 *       holds its buffers makes our SENDs wait in the device (RNR retries are 7: "retry forever"),
 *       and the sends behind them wait here, counted against the {@link ConnectionLimits}: past the
 *       hard limit a send fails and the connection closes, and posted work that has not moved for
 *       the stall timeout closes it too.
 *   <li>One-sided: RDMA WRITE and READ straight between registered regions; a write from a file
 *       goes through the staging buffers, one buffer-sized RDMA WRITE at a time.
 *   <li>Order: every work request, sends and one-sided alike, is posted in the order it was asked
 *       for, from one queue, so a message asked for after a write is delivered after it (RC order).
 *   <li>Completions: the connection's own thread polls the completion queue, and when it finds
 *       nothing asks for a notification and waits on the completion channel. It is the receive
 *       thread: the handler is called on it.
 *   <li>Errors: a work request that fails (a remote access error above all: a key, range or access
 *       the peer never gave) fails its future with that cause and closes the connection, as a queue
 *       pair in its error state is closed; a remote access error is a {@link RemoteAccessException}.
 * </ul>
 *
 * <p>Ownership: the connection owns its {@link QueuePair} and its cm id (through the id's
 * {@link CmChannel}); both are released once, by the completion thread as it ends, after the queue
 * pair has been moved to its error state by {@code rdma_disconnect} and its outstanding work
 * requests have come back (or a short wait has passed). {@link #close} from any other thread waits
 * for that, so that a domain closed after its connections finds no queue pair on its PD.
 */
final class RdmaConnection implements Connection {
  private static final Logger log = Loggers.get(RdmaConnection.class);
  /** How long the completion thread blocks on the channel before it looks at the connection's state. */
  private static final int WAIT_MS = 50;
  /** How long a closing connection waits for its flushed work requests before releasing anyway. */
  private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(2);
  /** How long {@link #close} waits for the release. */
  private static final long RELEASE_WAIT_MS = 10_000;

  private final CmChannel channel;
  private final RdmaCmId id;
  private final RdmaDomain domain;
  private final QueuePair qp;
  private final ConnectionLimits limits;
  private final Capabilities capabilities;
  private final SocketAddress remote;
  private final boolean peerIsLocal;
  private final Thread completionThread;
  private volatile ConnectionHandler handler;
  private volatile Object attachment;
  private final AtomicLong bytesReceived = new AtomicLong();

  private final ReentrantLock lock = new ReentrantLock();
  /** Guarded by lock: work not yet posted, in the order asked for. */
  private final ArrayDeque<Op> waiting = new ArrayDeque<>();
  /** Guarded by lock: work posted, by work request id. */
  private final Map<Long, Op> posted = new HashMap<>();
  /** Guarded by lock: free staging slots. */
  private final ArrayDeque<Integer> freeStaging = new ArrayDeque<>();
  /** Guarded by lock: bytes of messages and file writes asked for and not yet completed. */
  private long backlog;
  /** Guarded by lock. */
  private long nextWrId = 1;
  /** Guarded by lock: when posted work last moved (a completion, or the first post after none). */
  private long lastProgress = System.nanoTime();
  /** Guarded by lock: receives posted and not yet completed. */
  private int receivesPosted;
  /** Guarded by lock. */
  private boolean closed;
  /** Guarded by lock: why it closed; null for an orderly close. */
  private Throwable cause;
  private final QueueWaiters waiters;
  private final CompletableFuture<Void> released = new CompletableFuture<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean disconnected = new AtomicBoolean();
  /**
   * Guards the cm id's last two native calls against each other: {@code rdma_disconnect} (from any
   * thread) must never run on an id that {@link #release} is destroying or has destroyed.
   */
  private final Object idGuard = new Object();
  /** Guarded by idGuard. */
  private boolean idReleased;

  /** One work request, waiting or posted. */
  private static final class Op {
    final int opcode;
    /** A SEND's message (read when it is copied to staging); null otherwise. */
    final ByteBuffer message;
    /** A file write's source; null otherwise. */
    final FileChannel file;
    final long filePosition;
    final long localAddress;
    final int lkey;
    final int length;
    final long remoteAddress;
    final int rkey;
    /** Completed with the work request; null for a SEND. */
    final CompletableFuture<Void> done;
    /** Bytes counted in the backlog. */
    final long counted;
    int stagingSlot = -1;

    Op(int opcode, ByteBuffer message, FileChannel file, long filePosition, long localAddress, int lkey, int length, long remoteAddress, int rkey,
        CompletableFuture<Void> done, long counted) {
      this.opcode = opcode;
      this.message = message;
      this.file = file;
      this.filePosition = filePosition;
      this.localAddress = localAddress;
      this.lkey = lkey;
      this.length = length;
      this.remoteAddress = remoteAddress;
      this.rkey = rkey;
      this.done = done;
      this.counted = counted;
    }

    boolean staged() {
      return message != null || file != null;
    }
  }

  RdmaConnection(CmChannel channel, RdmaCmId id, RdmaDomain domain, QueuePair qp, ConnectionHandler handler, ConnectionLimits limits,
      Capabilities capabilities, int stagingSlots) {
    this.channel = channel;
    this.id = id;
    this.domain = domain;
    this.qp = qp;
    this.handler = handler;
    this.limits = limits;
    this.capabilities = capabilities;
    SocketAddress peer;
    try {
      peer = id.getDestination();
    } catch (Exception e) {
      peer = null;
    }
    this.remote = peer;
    this.peerIsLocal = isLocal(peer);
    for (int i = 0; i < stagingSlots; i++) {
      freeStaging.add(i);
    }
    receivesPosted = capabilities.receiveDepth();
    this.waiters = new QueueWaiters(lock, limits, () -> backlog, () -> waiting.isEmpty() && posted.isEmpty(), () -> closed);
    this.completionThread = new Thread(this::completions, "rdma-cq-" + qp.hashCode());
    this.completionThread.setDaemon(true);
  }

  private static boolean isLocal(SocketAddress peer) {
    if (!(peer instanceof InetSocketAddress i) || i.getAddress() == null) {
      return false;
    }
    try {
      return i.getAddress().isLoopbackAddress() || NetworkInterface.getByInetAddress(i.getAddress()) != null;
    } catch (SocketException e) {
      return false;
    }
  }

  /** Starts taking completions; the handler hears of the connection first. Once. */
  void start() {
    if (started.compareAndSet(false, true)) {
      try {
        handler.onOpen(this);
      } finally {
        completionThread.start();
      }
    }
  }

  /**
   * Releases a connection that never started (its setup failed): the queue pair and the id, now, on
   * the calling thread.
   */
  void abandon() {
    lock.lock();
    try {
      closed = true;
    } finally {
      lock.unlock();
    }
    if (started.compareAndSet(false, true)) {
      release();
    }
  }

  // ---- sending

  @Override
  public void send(ByteBuffer message) throws IOException {
    int length = message.remaining();
    if (length > capabilities.maxMessage()) {
      throw new IllegalArgumentException("a message has at most " + capabilities.maxMessage() + " bytes, not " + length);
    }
    IOException refused = null;
    List<Runnable> due = List.of();
    lock.lock();
    try {
      if (closed) {
        throw closedException();
      }
      if (backlog + length > limits.queueHardLimit()) {
        refused = new IOException("the peer let more than " + limits.queueHardLimit() + " bytes pile up unsent; connection closed");
      } else {
        waiting.add(new Op(IbvSendWR.IBV_WR_SEND, message.duplicate(), null, 0, 0, 0, length, 0, 0, null, length));
        backlog += length;
        due = pumpLocked();
      }
    } finally {
      lock.unlock();
    }
    QueueWaiters.runAll(due);
    if (refused != null) {
      closeWith(refused);
      throw refused;
    }
  }

  @Override
  public CompletableFuture<Void> write(Region source, int sourceOffset, RemoteRegion target, long targetOffset, int length) {
    return oneSided(IbvSendWR.IBV_WR_RDMA_WRITE, source, sourceOffset, target, targetOffset, length);
  }

  @Override
  public CompletableFuture<Void> read(Region target, int targetOffset, RemoteRegion source, long sourceOffset, int length) {
    return oneSided(IbvSendWR.IBV_WR_RDMA_READ, target, targetOffset, source, sourceOffset, length);
  }

  /** An RDMA WRITE from, or READ into, the local region {@code local}; misuse is refused here, before anything is posted. */
  private CompletableFuture<Void> oneSided(int opcode, Region local, int localOffset, RemoteRegion peer, long peerOffset, int length) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      if (!(local instanceof RdmaRegion r) || !r.belongsTo(domain)) {
        throw new IllegalArgumentException("the local region is not one of this connection's domain");
      }
      if (r.isClosed()) {
        throw new IllegalArgumentException("the local region is closed");
      }
      if (length < 0 || length > capabilities.maxOneSided()) {
        throw new IllegalArgumentException("a one-sided transfer has 0 to " + capabilities.maxOneSided() + " bytes, not " + length);
      }
      if (localOffset < 0 || (long) localOffset + length > r.length()) {
        throw new IllegalArgumentException("bytes " + localOffset + ".." + ((long) localOffset + length) + " are outside the local region of " + r.length());
      }
      long[] named = decode(peer);
      if (peerOffset < 0) {
        throw new IllegalArgumentException("negative offset " + peerOffset);
      }
      if (length == 0) {
        done.complete(null);
        return done;
      }
      enqueue(new Op(opcode, null, null, 0, r.address() + localOffset, r.lkey(), length, named[0] + peerOffset, (int) named[1], done, 0));
    } catch (IllegalArgumentException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  @Override
  public CompletableFuture<Void> writeFromFile(FileChannel file, long position, int length, RemoteRegion target, long targetOffset) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      if (length < 0 || length > capabilities.maxOneSided()) {
        throw new IllegalArgumentException("a one-sided transfer has 0 to " + capabilities.maxOneSided() + " bytes, not " + length);
      }
      long[] named = decode(target);
      // One staging buffer's worth per RDMA WRITE; the call completes when the last does.
      List<CompletableFuture<Void>> parts = new ArrayList<>();
      int slot = qp.slotSize();
      List<Op> ops = new ArrayList<>();
      for (int at = 0; at < length; at += slot) {
        int n = Math.min(slot, length - at);
        CompletableFuture<Void> part = new CompletableFuture<>();
        parts.add(part);
        ops.add(new Op(IbvSendWR.IBV_WR_RDMA_WRITE, null, file, position + at, 0, 0, n, named[0] + targetOffset + at, (int) named[1], part, n));
      }
      enqueue(ops.toArray(new Op[0]));
      return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]));
    } catch (IllegalArgumentException e) {
      done.completeExceptionally(e);
      return done;
    }
  }

  /** The address and rkey a descriptor names (see {@link RdmaRegion#remote}). */
  private static long[] decode(RemoteRegion region) {
    if (region.size() != RdmaRegion.DESCRIPTOR_BYTES) {
      throw new IllegalArgumentException("not an rdma region descriptor: " + region);
    }
    byte[] d = region.toBytes();
    ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
    return new long[] {b.getLong(), b.getInt() & 0xffffffffL};
  }

  private void enqueue(Op... ops) {
    List<Runnable> due;
    lock.lock();
    try {
      if (closed) {
        IOException e = closedException();
        for (Op op : ops) {
          op.done.completeExceptionally(e);
        }
        return;
      }
      for (Op op : ops) {
        waiting.add(op);
        backlog += op.counted;
      }
      due = pumpLocked();
    } finally {
      lock.unlock();
    }
    QueueWaiters.runAll(due);
  }

  /**
   * Posts waiting work in order while the send queue has room and, for what is staged, a staging
   * buffer is free. Under the lock; answers the waiters' callbacks that became due.
   */
  private List<Runnable> pumpLocked() {
    while (!closed && !waiting.isEmpty() && posted.size() < RdmaTransport.SEND_QUEUE_DEPTH) {
      Op op = waiting.peek();
      if (op.staged() && freeStaging.isEmpty()) {
        break;
      }
      waiting.poll();
      long wrId = nextWrId++;
      long local = op.localAddress;
      int lkey = op.lkey;
      try {
        if (op.staged()) {
          op.stagingSlot = freeStaging.poll();
          local = stage(op);
          lkey = qp.stagingBuffers().lkey();
        }
        if (posted.isEmpty()) {
          lastProgress = System.nanoTime();
        }
        posted.put(wrId, op);
        qp.postSend(wrId, op.opcode, local, lkey, op.length, op.remoteAddress, op.rkey);
      } catch (IOException | RuntimeException e) {
        posted.remove(wrId);
        if (op.stagingSlot >= 0) {
          freeStaging.add(op.stagingSlot);
        }
        backlog -= op.counted;
        if (op.done != null) {
          op.done.completeExceptionally(e);
        }
        // Cannot close under the lock's callers' feet here: the completion thread does it.
        failLocked(new IOException("posting a work request failed", e));
        break;
      }
    }
    return waiters.due();
  }

  /** Copies a SEND's message, or a file's bytes (zeros past its end), into the op's staging slot. */
  private long stage(Op op) throws IOException {
    int slot = qp.slotSize();
    ByteBuffer into = qp.stagingBuffers().buffer().position(op.stagingSlot * slot).limit(op.stagingSlot * slot + op.length).slice();
    if (op.message != null) {
      into.put(op.message.duplicate());
    } else {
      long at = op.filePosition;
      while (into.hasRemaining()) {
        int n = op.file.read(into, at);
        if (n < 0) {
          break;
        }
        at += n;
      }
      while (into.hasRemaining()) {
        into.put((byte) 0);
      }
    }
    return qp.stagingBuffers().address() + (long) op.stagingSlot * slot;
  }

  // ---- the completion thread

  private void completions() {
    long drainDeadline = 0;
    try {
      while (true) {
        int n = qp.poll();
        if (n > 0) {
          for (int i = 0; i < n; i++) {
            complete(qp.polled(i));
          }
          continue;
        }
        boolean closing;
        boolean drained;
        boolean stalled;
        lock.lock();
        try {
          closing = closed;
          drained = posted.isEmpty() && receivesPosted == 0;
          stalled = !closed && !posted.isEmpty() && System.nanoTime() - lastProgress > limits.stallTimeout().toNanos();
        } finally {
          lock.unlock();
        }
        if (stalled) {
          // The peer has taken nothing for the stall timeout (with RNR retries for ever, a peer that
          // never releases its receive buffers would hold our sends without end).
          closeWith(new IOException("the peer took nothing for " + limits.stallTimeout().toMillis() + " ms; connection closed"));
          continue;
        }
        if (closing) {
          if (drainDeadline == 0) {
            // Closed under the lock by a failed post, perhaps: the device may not know yet.
            disconnectOnce();
            drainDeadline = System.nanoTime() + DRAIN_NANOS;
          }
          if (drained || System.nanoTime() > drainDeadline) {
            break;
          }
        }
        qp.armNotification();
        n = qp.poll();
        if (n > 0) {
          for (int i = 0; i < n; i++) {
            complete(qp.polled(i));
          }
          continue;
        }
        qp.awaitEvent(WAIT_MS);
      }
    } catch (IOException | RuntimeException e) {
      log.warn("the completion queue failed", e);
      closeWith(new IOException("the completion queue failed", e));
    } finally {
      release();
    }
  }

  private void complete(IbvWC wc) {
    long wrId = wc.getWr_id();
    int status = wc.getStatus();
    if ((wrId & QueuePair.RECEIVE_TAG) != 0) {
      int slot = (int) (wrId & ~QueuePair.RECEIVE_TAG);
      lock.lock();
      try {
        receivesPosted--;
      } finally {
        lock.unlock();
      }
      if (status == IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal()) {
        // Delivered even while closing: it arrived before the close.
        deliver(slot, wc.getByte_len());
      } else if (!isFlush(status)) {
        closeWith(new IOException("a receive failed: " + statusName(status)));
      } else {
        // A flush the connection did not ask for: the queue pair went to its error state (a peer's
        // bad one-sided access, or a transport error).
        closeWith(isClosed() ? null : new IOException("the queue pair went to its error state (flushed receive)"));
      }
      return;
    }
    Op op;
    List<Runnable> due;
    lock.lock();
    try {
      op = posted.remove(wrId);
      if (op == null) {
        return;
      }
      lastProgress = System.nanoTime();
      if (op.stagingSlot >= 0) {
        freeStaging.add(op.stagingSlot);
      }
      backlog -= op.counted;
      due = pumpLocked();
    } finally {
      lock.unlock();
    }
    if (status == IbvWC.IbvWcStatus.IBV_WC_SUCCESS.ordinal()) {
      if (op.opcode == IbvSendWR.IBV_WR_RDMA_READ) {
        domain.placed(op.length);
      }
      if (op.done != null) {
        op.done.complete(null);
      }
    } else if (isFlush(status)) {
      if (op.done != null) {
        op.done.completeExceptionally(closedException());
      }
    } else {
      IOException failure = status == IbvWC.IbvWcStatus.IBV_WC_REM_ACCESS_ERR.ordinal()
          ? new RemoteAccessException("the peer refused an " + opName(op.opcode) + " of " + op.length + " bytes at 0x" + Long.toHexString(op.remoteAddress)
              + " (rkey 0x" + Integer.toHexString(op.rkey) + "): remote access error (IBV_WC_REM_ACCESS_ERR), a key, range or access it never gave;"
              + " the queue pair is in its error state and the connection is closed")
          : new IOException(opName(op.opcode) + " failed: " + statusName(status) + "; the connection is closed");
      // Closed first, so that whoever sees the failure finds the connection closed already.
      closeWith(failure);
      if (op.done != null) {
        op.done.completeExceptionally(failure);
      }
    }
    QueueWaiters.runAll(due);
  }

  private static boolean isFlush(int status) {
    return status == IbvWC.IbvWcStatus.IBV_WC_WR_FLUSH_ERR.ordinal();
  }

  private static String statusName(int status) {
    IbvWC.IbvWcStatus[] all = IbvWC.IbvWcStatus.values();
    return (status >= 0 && status < all.length ? all[status].name() : "status") + " (" + status + ")";
  }

  private static String opName(int opcode) {
    return switch (opcode) {
      case IbvSendWR.IBV_WR_RDMA_WRITE -> "RDMA WRITE";
      case IbvSendWR.IBV_WR_RDMA_READ -> "RDMA READ";
      default -> "SEND";
    };
  }

  /** Hands receive buffer {@code slot}'s message to the handler. */
  private void deliver(int slot, int length) {
    bytesReceived.addAndGet(length);
    int base = slot * qp.slotSize();
    ByteBuffer view = qp.receiveBuffers().buffer().position(base).limit(base + length).slice();
    Received r = new Received() {
      private final AtomicBoolean given = new AtomicBoolean();

      @Override
      public ByteBuffer buffer() {
        if (given.get()) {
          throw new IllegalStateException("the message was released");
        }
        return view.duplicate();
      }

      @Override
      public void release() {
        if (given.compareAndSet(false, true)) {
          repost(slot);
        }
      }

      @Override
      public ByteBuffer detach() {
        ByteBuffer copy = ByteBuffer.allocate(length);
        copy.put(buffer()).flip();
        release();
        return copy;
      }
    };
    try {
      handler.onMessage(this, r);
    } catch (RuntimeException e) {
      log.warn("a connection handler failed on a message; the connection is closed", e);
      r.release();
      closeWith(new IOException("the handler failed", e));
    }
  }

  /** Posts a released receive buffer again (unless the connection closed: the queue pair is going). */
  private void repost(int slot) {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      qp.postReceive(slot);
      receivesPosted++;
    } catch (IOException e) {
      failLocked(new IOException("reposting a receive buffer failed", e));
    } finally {
      lock.unlock();
    }
  }

  // ---- closing

  private boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  private IOException closedException() {
    Throwable c = cause;
    return c == null ? new IOException("connection closed") : new IOException("connection closed: " + c.getMessage(), c);
  }

  /**
   * Marks the connection closed with {@code why} and fails what never got posted; under the lock.
   * The device is told (rdma_disconnect) by {@link #closeWith}, outside it.
   */
  private boolean failLocked(Throwable why) {
    if (closed) {
      return false;
    }
    closed = true;
    cause = why;
    IOException e = closedException();
    for (Op op : waiting) {
      if (op.done != null) {
        op.done.completeExceptionally(e);
      }
    }
    waiting.clear();
    return true;
  }

  /** Closes with {@code why} (null: orderly) from any thread, without waiting for the release. */
  void closeWith(Throwable why) {
    List<Runnable> due;
    boolean first;
    lock.lock();
    try {
      first = failLocked(why);
      due = waiters.due();
    } finally {
      lock.unlock();
    }
    if (first) {
      disconnectOnce();
    }
    QueueWaiters.runAll(due);
  }

  /**
   * Moves the queue pair to its error state, so that what is posted comes back flushed, and tells the
   * peer, which hears DISCONNECTED. Once.
   */
  private void disconnectOnce() {
    synchronized (idGuard) {
      if (idReleased || !disconnected.compareAndSet(false, true)) {
        return;
      }
      try {
        id.disconnect();
      } catch (Exception e) {
        log.debug("rdma_disconnect failed", e);
      }
    }
  }

  /** The peer disconnected (a connection-manager event). */
  void peerDisconnected() {
    closeWith(null);
  }

  /** The one release path, run once: by the completion thread as it ends, or by {@link #abandon}. */
  private void release() {
    try {
      qp.release();
      synchronized (idGuard) {
        idReleased = true;
        channel.destroyId(id);
      }
      domain.detach(this);
    } finally {
      released.complete(null);
      if (completionThread.isAlive() && Thread.currentThread() == completionThread) {
        Throwable why;
        lock.lock();
        try {
          why = cause;
        } finally {
          lock.unlock();
        }
        try {
          handler.onClosed(this, why);
        } catch (RuntimeException e) {
          log.warn("a connection handler failed on close", e);
        }
      }
    }
  }

  @Override
  public void close() {
    closeWith(null);
    if (Thread.currentThread() != completionThread && completionThread.isAlive()) {
      try {
        released.get(RELEASE_WAIT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        log.warn("a closed rdma connection was not released within {} ms", RELEASE_WAIT_MS);
      }
    }
  }

  @Override
  public void closeAfterSending() {
    waiters.whenEmpty(this::close);
  }

  @Override
  public boolean isWritable() {
    lock.lock();
    try {
      return closed || backlog <= limits.queueHighWater();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void whenWritable(Runnable r) {
    waiters.whenWritable(r);
  }

  // ---- the rest of the SPI

  @Override
  public long bytesReceived() {
    return bytesReceived.get();
  }

  @Override
  public SocketAddress remoteAddress() {
    return remote;
  }

  @Override
  public boolean canName(RemoteRegion region) {
    return region.size() == RdmaRegion.DESCRIPTOR_BYTES;
  }

  @Override
  public MemoryDomain domain() {
    return domain;
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }

  @Override
  public boolean peerIsLocal() {
    return peerIsLocal;
  }

  @Override
  public boolean isOpen() {
    return !isClosed();
  }

  @Override
  public Object attachment() {
    return attachment;
  }

  @Override
  public void attach(Object a) {
    this.attachment = a;
  }
}
