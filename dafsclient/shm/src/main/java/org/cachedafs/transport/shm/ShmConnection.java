package org.cachedafs.transport.shm;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import jnr.ffi.Pointer;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteAccessException;
import org.cachedafs.transport.RemoteRegion;
import org.slf4j.Logger;

/**
 * An shm connection: a control socket, a doorbell socket, the shared ring file, the peer's segments
 * mapped here, and a receive thread. One-sided operations run entirely on the calling thread.
 */
final class ShmConnection implements Connection {
  private static final Logger log = Loggers.get(ShmConnection.class);
  private static final AtomicInteger NUMBERS = new AtomicInteger();
  static final int MAX_ONE_SIDED = 16 << 20;
  private static final byte[] DOORBELL = {1};
  private static final byte[] ZEROS = new byte[64 * 1024];
  private static final int DOORBELL_SCRATCH = 256;
  /** While paused for back-pressure, the receive thread looks at the send queue this often. */
  private static final int PAUSE_POLL_MILLIS = 10;
  /**
   * How long the receive thread spins on an empty ring before it sleeps on the doorbell: long enough
   * to catch a reply to a request it just delivered without a system call on either side, short
   * enough to cost little when the peer is idle. Measured by the clock, read every
   * {@link #SPIN_CHECK} iterations, so a slow PAUSE (as under virtualization) does not stretch it.
   */
  private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.getLong("cachedafs.shm.spinMicros", 20));
  private static final int SPIN_CHECK = 64;

  private final int number;
  private final Native nat;
  private final ShmDomain domain;
  private final ConnectionHandler handler;
  private final ConnectionLimits limits;
  /**
   * Whether this side accepted the connection; only it stops consuming the peer's messages while its
   * own send queue is above the high water (see {@link ConnectionLimits}), so two peers can never
   * wait on each other.
   */
  private final boolean accepting;
  private final UnixDomainSocketAddress address;
  private final int peerPid;
  private final int controlFd;
  private final int doorbellFd;
  private final ControlChannel control;
  private final MappedByteBuffer ringFile;
  private final Ring inbound;
  private final Ring outbound;
  private final ShmSender sender;
  private final PeerMemory peer;
  /** Held by the receive and drain threads while they run and by every operation while it runs; its release unmaps the rings and closes the sockets. */
  private final Guard guard;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Guards announced; taken before the sender's lock, never after. */
  private final Object announceLock = new Object();
  /** Guarded by announceLock: what the peer was told of, by segment. */
  private final Map<ShmSegment, Set<ShmRegion>> announced = new HashMap<>();
  private volatile Thread receiver;
  private volatile Object attachment;
  private final AtomicLong messagesReceived = new AtomicLong();
  /** The bytes of the messages delivered; one-sided transfers are the initiator's own copies, never received. */
  private final AtomicLong bytesReceived = new AtomicLong();
  private final AtomicLong wakeups = new AtomicLong();

  ShmConnection(Native nat, int number, int controlFd, ControlChannel control, int doorbellFd, MappedByteBuffer ringFile,
      boolean accepting, ShmDomain domain, ConnectionHandler handler, ConnectionLimits limits, UnixDomainSocketAddress address) {
    this.nat = nat;
    this.number = number;
    this.controlFd = controlFd;
    this.control = control;
    this.doorbellFd = doorbellFd;
    this.ringFile = ringFile;
    this.accepting = accepting;
    this.domain = domain;
    this.handler = handler;
    this.limits = limits;
    this.address = address;
    this.peerPid = nat.peerPid(controlFd);
    this.inbound = Ring.inbound(ringFile, accepting);
    this.outbound = Ring.outbound(ringFile, accepting);
    this.peer = new PeerMemory(nat);
    this.guard = new Guard(this::release);
    this.sender = new ShmSender(nat, outbound, control, this::ringDoorbell, limits, guard, "dafs-shm-tx-" + number, this::close);
  }

  static int nextNumber() {
    return NUMBERS.incrementAndGet();
  }

  /**
   * Makes the connection live: the domain's remote-access regions are announced to the peer (into
   * the socket before this returns), the handler hears {@code onOpen}, and then messages flow.
   * Called on the thread that will receive, for an accepting side; a connecting side starts one.
   */
  void open(boolean startReceiver) {
    domain.attach(this);
    handler.onOpen(this);
    if (startReceiver) {
      Thread t = new Thread(this::receiveLoop, "dafs-shm-rx-" + number);
      t.setDaemon(true);
      receiver = t;
      t.start();
    }
  }

  // -- messages

  @Override
  public void send(ByteBuffer message) throws IOException {
    if (message.remaining() > Ring.MAX_MESSAGE) {
      throw new IllegalArgumentException("message of " + message.remaining() + " bytes exceeds " + Ring.MAX_MESSAGE);
    }
    if (!guard.enter()) {
      throw new ClosedChannelException();
    }
    try {
      sender.send(message);
    } finally {
      guard.exit();
    }
  }

  @Override
  public boolean isWritable() {
    return sender.writable();
  }

  @Override
  public void whenWritable(Runnable r) {
    sender.whenWritable(r);
  }

  @Override
  public void closeAfterSending() {
    sender.whenEmpty(this::close);
  }

  /** Wakes the peer's receive thread; a full doorbell socket means it has a wake-up waiting already. */
  private void ringDoorbell() {
    try {
      nat.send(doorbellFd, DOORBELL, 1);
    } catch (IOException e) {
      log.debug("connection {}: the doorbell failed, the peer is going: {}", number, e.getMessage());
    }
  }

  // -- one-sided operations, done by this thread alone

  @Override
  public CompletableFuture<Void> write(Region source, int sourceOffset, RemoteRegion target, long targetOffset, int length) {
    return oneSided(source, sourceOffset, target, targetOffset, length, true, (mine, peers) -> peers.put(mine));
  }

  @Override
  public CompletableFuture<Void> writeFromFile(FileChannel file, long position, int length, RemoteRegion target, long targetOffset) {
    if (position < 0) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("one-sided write of file bytes at " + position));
    }
    return oneSided(null, 0, target, targetOffset, length, true, (none, peers) -> fill(file, position, peers));
  }

  /** Reads the file straight into the peer's memory; what lies past its end arrives as zeros. */
  private static void fill(FileChannel file, long position, ByteBuffer target) throws IOException {
    long at = position;
    while (target.hasRemaining()) {
      int n = file.read(target, at);
      if (n < 0) {
        break;
      }
      at += n;
    }
    while (target.hasRemaining()) {
      target.put(ZEROS, 0, Math.min(ZEROS.length, target.remaining()));
    }
  }

  @Override
  public CompletableFuture<Void> read(Region target, int targetOffset, RemoteRegion source, long sourceOffset, int length) {
    return oneSided(target, targetOffset, source, sourceOffset, length, false, (mine, peers) -> {
      mine.put(peers);
      domain.placed(length);
    });
  }

  /** A copy between this side's memory ({@code mine}, null for a file) and the peer's, run by the initiating thread. */
  private interface Copy {
    void run(ByteBuffer mine, ByteBuffer peers) throws IOException;
  }

  /**
   * Runs a one-sided operation on this thread: checks the local side, resolves the descriptor, and
   * copies while holding the peer segment's guard. Complete when it returns; a remote access error
   * closes the connection, a local mistake does not.
   */
  private CompletableFuture<Void> oneSided(Region local, int localOffset, RemoteRegion region, long offset, int length, boolean write,
      Copy copy) {
    try {
      if (length < 0 || length > MAX_ONE_SIDED) {
        throw new IllegalArgumentException("one-sided length " + length + " outside [0, " + MAX_ONE_SIDED + "]");
      }
      ByteBuffer mine = local == null ? null : local(local, localOffset, length).slice(localOffset, length);
      Descriptor d = remote(region, offset);
      if (!guard.enter()) {
        throw new ClosedChannelException();
      }
      try {
        PeerMemory.Target t = resolve(d, offset, length, write);
        if (t != null) { // null: a write into a region the peer closed lately, dropped
          try {
            copy.run(mine, t.memory);
          } finally {
            t.release();
          }
        }
      } finally {
        guard.exit();
      }
      return CompletableFuture.completedFuture(null);
    } catch (RemoteAccessException | PeerViolation e) {
      close(e);
      return CompletableFuture.failedFuture(e);
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    } catch (InternalError e) {
      // The JVM's report of a fault (SIGBUS) in a copy through mapped memory; the checks on every
      // memory file the peer sends are there so that it cannot happen.
      RemoteAccessException fault = new RemoteAccessException("a fault in the peer's memory: " + e.getMessage());
      close(fault);
      return CompletableFuture.failedFuture(fault);
    }
  }

  /**
   * The peer memory an operation goes to, its guard entered; null for a write into a region the
   * peer closed lately (dropped). The peer's announcements that are already in the control socket
   * are taken in first, so a region allocated before its descriptor was handed over is known.
   */
  private PeerMemory.Target resolve(Descriptor d, long offset, int length, boolean write) throws IOException {
    syncControl();
    PeerMemory.Target t = peer.resolve(d, offset, length, write);
    if (t == null && !write) {
      throw new RemoteAccessException(d + " was closed by the peer");
    }
    return t;
  }

  /** The descriptor's content; a negative offset is refused here, as a local mistake. */
  private static Descriptor remote(RemoteRegion region, long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException("one-sided transfer at offset " + offset + " of " + region);
    }
    return Descriptor.of(region);
  }

  private ShmRegion local(Region region, int offset, int length) {
    if (!(region instanceof ShmRegion r) || !region.belongsTo(domain)) {
      throw new IllegalArgumentException(region + " is not registered in this connection's domain");
    }
    if (r.isClosed()) {
      throw new IllegalArgumentException(region + " is closed");
    }
    if (!r.contains(offset, length)) {
      throw new IllegalArgumentException(length + " bytes at " + offset + " outside " + region);
    }
    return r;
  }

  // -- what the peer may reach (called by the domain)

  /** Tells the peer of a region (and of its segment, with the descriptor, the first time). */
  void announce(ShmRegion region) {
    if (!guard.enter()) {
      return;
    }
    IOException failure = null;
    try {
      synchronized (announceLock) {
        if (closed.get() || region.isClosed()) {
          return;
        }
        ShmSegment s = region.segment;
        Set<ShmRegion> regions = announced.get(s);
        if (regions == null) {
          sender.control(ControlRecord.segment(s.id, s.length, s.access), s.descriptorForPeer());
          regions = new HashSet<>();
          announced.put(s, regions);
        }
        if (regions.add(region)) {
          sender.control(ControlRecord.region(region.key, s.id, region.offset, region.length(), region.access()), -1);
        }
      }
    } catch (IOException e) {
      failure = e;
    } finally {
      guard.exit();
    }
    if (failure != null) {
      close(failure); // the peer could not reach the region; as good as a broken connection
    }
  }

  /** Tells the peer that a region is closed (and its segment, if the region owned it). */
  void retract(ShmRegion region) {
    if (!guard.enter()) {
      return;
    }
    IOException failure = null;
    try {
      synchronized (announceLock) {
        Set<ShmRegion> regions = announced.get(region.segment);
        if (regions == null) {
          return;
        }
        if (regions.remove(region)) {
          sender.control(ControlRecord.regionClosed(region.key), -1);
        }
        if (region.owner) {
          announced.remove(region.segment);
          sender.control(ControlRecord.segmentClosed(region.segment.id), -1);
        }
      }
    } catch (IOException e) {
      failure = e;
    } finally {
      guard.exit();
    }
    if (failure != null) {
      close(failure);
    }
  }

  // -- receiving

  /** The receive loop of an accepting side, which runs on the thread that did the handshake. */
  void receive() {
    receiver = Thread.currentThread();
    receiveLoop();
  }

  private void receiveLoop() {
    Throwable cause = null;
    if (!guard.enter()) {
      return;
    }
    Native.PollSet sockets = nat.new PollSet(2);
    sockets.set(0, doorbellFd, Native.POLLIN);
    sockets.set(1, controlFd, Native.POLLIN);
    Pointer scratch = nat.allocate(DOORBELL_SCRATCH);
    try {
      boolean peerOpen = true;
      while (peerOpen && !closed.get()) {
        if (accepting && sender.backlog() > limits.queueHighWater()) {
          peerOpen = pause(sockets, scratch);
          continue;
        }
        syncControl();
        if (inbound.drain(this::deliver) > 0 || spin()) {
          continue;
        }
        if (!inbound.sleep()) {
          inbound.awake();
          continue;
        }
        wakeups.incrementAndGet();
        sockets.poll(-1);
        inbound.awake();
        peerOpen = serviceSockets(sockets, scratch);
      }
      if (!peerOpen && !closed.get()) {
        // The peer closed or died: what it published before that is still to be delivered.
        syncControl();
        inbound.drain(this::deliver);
      }
    } catch (PeerViolation | ShmSender.PeerStalled e) {
      cause = e;
    } catch (IOException e) {
      if (!closed.get()) {
        cause = e;
      }
    } catch (RuntimeException | Error e) {
      log.warn("receive thread of shm connection {} failed", number, e);
      cause = e;
    } finally {
      guard.exit();
    }
    close(cause);
  }

  private void deliver(ByteBuffer message) {
    if (closed.get()) {
      return;
    }
    messagesReceived.incrementAndGet();
    bytesReceived.addAndGet(message.remaining());
    domain.messageAllocated(message.capacity());
    handler.onMessage(this, Received.owned(message));
  }

  /** Spins a little on an empty ring; true if a message (or a close) came meanwhile. */
  private boolean spin() {
    long deadline = System.nanoTime() + SPIN_NANOS;
    for (int i = 1; ; i++) {
      if (inbound.hasMessages() || closed.get()) {
        return true;
      }
      Thread.onSpinWait();
      if (i % SPIN_CHECK == 0 && System.nanoTime() - deadline > 0) {
        return false;
      }
    }
  }

  /** Drains the doorbell and control sockets after a poll; false once the peer has gone. */
  private boolean serviceSockets(Native.PollSet sockets, Pointer scratch) throws IOException {
    boolean open = true;
    if (sockets.revents(0) != 0) {
      while (true) {
        int n = nat.recv(doorbellFd, scratch, DOORBELL_SCRATCH);
        if (n == 0) {
          open = false;
        }
        if (n < DOORBELL_SCRATCH) {
          break;
        }
      }
      if ((sockets.revents(0) & (Native.POLLERR | Native.POLLNVAL)) != 0) {
        open = false;
      }
    }
    if (sockets.revents(1) != 0 && !control.receive(this::controlRecord)) {
      open = false;
    }
    return open;
  }

  /**
   * Stops consuming the peer's messages while this side's queue is above the high water, until it
   * drains to half of it; the sockets are still served. False once the peer has gone.
   */
  private boolean pause(Native.PollSet sockets, Pointer scratch) throws IOException {
    long resumeAt = limits.queueHighWater() / 2;
    long stall = limits.stallTimeout().toNanos();
    while (!closed.get() && sender.backlog() > resumeAt) {
      if (sender.stalledNanos() >= stall) {
        throw new ShmSender.PeerStalled("the peer has not taken its replies for the stall timeout, with " + sender.backlog()
            + " bytes waiting for it");
      }
      if (sockets.poll(PAUSE_POLL_MILLIS) && !serviceSockets(sockets, scratch)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Takes in the control records the peer says it has sent, if any are not here yet: they are in the
   * socket already (the peer counts a record only once it is), so this never waits.
   */
  private void syncControl() throws IOException {
    long sent = inbound.peerControlSent();
    if (sent <= inbound.controlRecords()) {
      return;
    }
    control.receive(this::controlRecord);
    if (inbound.controlRecords() < sent) {
      throw new PeerViolation("the peer counts " + sent + " control records sent, but " + inbound.controlRecords() + " arrived");
    }
  }

  /**
   * One control record from the peer; under the control channel's lock. Counted only once applied:
   * a thread that finds the count up to date ({@link #syncControl}) uses the region at once, so the
   * count must not run ahead of what this side knows (another thread would otherwise find a region
   * announced, counted, and not yet added).
   */
  private void controlRecord(ControlRecord r) throws IOException {
    switch (r.type()) {
      case ControlRecord.SEGMENT -> peer.addSegment(r.id(), r.length(), r.accessValue(), control.takeDescriptor());
      case ControlRecord.SEGMENT_CLOSED -> peer.closeSegment(r.id());
      case ControlRecord.REGION -> peer.addRegion(r.id(), r.segment(), r.offset(), r.length(), r.accessValue());
      case ControlRecord.REGION_CLOSED -> peer.closeRegion(r.id());
      default -> throw new PeerViolation("unexpected control record of type " + r.type());
    }
    inbound.controlProcessed();
  }

  // -- the rest of Connection

  @Override
  public long bytesReceived() {
    return bytesReceived.get();
  }

  @Override
  public SocketAddress remoteAddress() {
    return address;
  }

  @Override
  public boolean peerIsLocal() {
    return true;
  }

  @Override
  public boolean isOpen() {
    return !closed.get();
  }

  @Override
  public Object attachment() {
    return attachment;
  }

  @Override
  public void attach(Object attachment) {
    this.attachment = attachment;
  }

  @Override
  public void close() {
    close(null);
  }

  void close(Throwable cause) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (cause instanceof PeerViolation) {
      log.warn("closing shm connection {} with pid {}: {}", number, peerPid, cause.getMessage());
    } else if (cause instanceof ShmSender.PeerStalled) {
      log.info("closing shm connection {} with pid {}: {}", number, peerPid, cause.getMessage());
    } else if (cause != null) {
      log.debug("closing shm connection {} with pid {}: {}", number, peerPid, cause.toString());
    }
    domain.detach(this);
    sender.close();
    nat.shutdown(controlFd); // the peer sees the end; our own receive thread wakes up
    nat.shutdown(doorbellFd);
    peer.closeAll();
    guard.close();
    handler.onClosed(this, cause);
  }

  /** Runs once nothing uses the connection any more: nobody touches the rings or sockets after this. */
  private void release() {
    Mappings.unmap(ringFile);
    nat.closeQuietly(controlFd);
    nat.closeQuietly(doorbellFd);
    control.closeStrayDescriptors();
  }

  // -- for tests and diagnostics

  int number() {
    return number;
  }

  Thread receiveThread() {
    return receiver;
  }

  Thread drainThread() {
    return sender.drainThread();
  }

  /** Whether the receive thread has gone to sleep on the doorbell. */
  boolean receiverAsleep() {
    return !closed.get() && inbound.asleep();
  }

  long messagesReceived() {
    return messagesReceived.get();
  }

  long messagesSent() {
    return sender.messagesSent();
  }

  long controlRecordsReceived() {
    return inbound.controlRecords();
  }

  long wakeups() {
    return wakeups.get();
  }

  PeerMemory peer() {
    return peer;
  }

  /** The shared ring file, as mapped here. */
  ByteBuffer ringFile() {
    return ringFile;
  }

  @Override
  public boolean canName(org.cachedafs.transport.RemoteRegion region) {
    return region.size() == Descriptor.BYTES;
  }

  @Override
  public ShmDomain domain() {
    return domain;
  }

  @Override
  public org.cachedafs.transport.Capabilities capabilities() {
    return ShmTransport.CAPABILITIES;
  }

  /** Whether this side accepted the connection. */
  boolean accepting() {
    return accepting;
  }

  /** Sends a control record as is ({@code fd} attached unless negative, and then owned by the sender). */
  void sendControl(ControlRecord r, int fd) throws IOException {
    if (!guard.enter()) {
      nat.closeQuietly(fd);
      throw new ClosedChannelException();
    }
    try {
      sender.control(r, fd);
    } finally {
      guard.exit();
    }
  }

  /** Rings the peer's doorbell, as a publish does when the peer sleeps. */
  void doorbell() {
    ringDoorbell();
  }

  @Override
  public String toString() {
    return "ShmConnection[" + number + ", peer pid " + peerPid + (closed.get() ? ", closed" : "") + "]";
  }
}
