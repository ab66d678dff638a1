package org.cachedafs.transport.tcp;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.Capabilities;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteAccessException;
import org.cachedafs.transport.RemoteRegion;
import org.slf4j.Logger;

/**
 * A tcp connection: one non-blocking socket, a receive thread that reads frames and places one-sided
 * data, and a {@link TcpSender} that puts outgoing frames on the wire whole and in order without
 * ever making a sender wait for the peer.
 */
final class TcpConnection implements Connection {
  private static final Logger log = Loggers.get(TcpConnection.class);

  private final SocketChannel channel;
  private final TcpDomain domain;
  private final ConnectionHandler handler;
  private final InetSocketAddress remote;
  private final TcpSender sender;
  /** Wakes the receive thread when the non-blocking socket has bytes; only that thread selects on it. */
  private final Selector readable;
  private final ByteBuffer inHeader = ByteBuffer.allocateDirect(TcpWire.HEADER_BYTES);
  private final Map<Long, PendingRead> pendingReads = new ConcurrentHashMap<>();
  private final AtomicLong nextOperation = new AtomicLong(1);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread receiver;
  /**
   * Whether the receive thread stops reading while the send queue is over its high water. Only the
   * accepting side (a server) does: it protects itself from a client that does not read its replies.
   * A client never stops reading its server, so the two can never wait on each other, as they would
   * if both stopped reading to push their own bytes out over one byte stream.
   */
  private final boolean pauseReading;
  private volatile Object attachment;
  /** Written by the receive thread alone, after each socket read. */
  private volatile long bytesReceived;

  private record PendingRead(TcpRegion target, int offset, int length, CompletableFuture<Void> done) {}

  TcpConnection(SocketChannel channel, TcpDomain domain, ConnectionHandler handler, ConnectionLimits limits, boolean pauseReading)
      throws IOException {
    this.channel = channel;
    this.pauseReading = pauseReading;
    this.domain = domain;
    this.handler = handler;
    this.remote = (InetSocketAddress) channel.getRemoteAddress();
    // Non-blocking, so that no sending thread can ever be held by a peer that stops reading (TcpSender).
    channel.configureBlocking(false);
    this.readable = Selector.open();
    try {
      channel.register(readable, SelectionKey.OP_READ);
      this.sender = new TcpSender(channel, limits, "dafs-tcp-tx-" + remote.getPort(), this::close);
    } catch (IOException | RuntimeException e) {
      readable.close();
      throw e;
    }
    this.receiver = new Thread(this::receiveLoop, "dafs-tcp-rx-" + remote.getPort());
    receiver.setDaemon(true);
  }

  void start() {
    handler.onOpen(this);
    sender.start();
    receiver.start();
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

  @Override
  public void send(ByteBuffer message) throws IOException {
    if (message.remaining() > TcpWire.MAX_MESSAGE) {
      throw new IllegalArgumentException("message of " + message.remaining() + " bytes exceeds " + TcpWire.MAX_MESSAGE);
    }
    sendFrame(TcpWire.MSG, TcpWire.STATUS_OK, 0, 0, 0, 0, message.duplicate(), new CompletableFuture<>());
  }

  @Override
  public CompletableFuture<Void> write(Region source, int sourceOffset, RemoteRegion target, long targetOffset, int length) {
    try {
      TcpRegion src = local(source, sourceOffset, length);
      long key = TcpRegion.keyOf(target);
      if (targetOffset < 0) {
        throw new IllegalArgumentException("write of " + length + " at " + targetOffset + " outside " + target);
      }
      CompletableFuture<Void> done = new CompletableFuture<>();
      sendFrame(TcpWire.WRITE, TcpWire.STATUS_OK, key, 0, targetOffset, 0, src.slice(sourceOffset, length), done);
      return done;
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletableFuture<Void> writeFromFile(FileChannel file, long position, int length, RemoteRegion target, long targetOffset) {
    try {
      if (length < 0 || length > TcpWire.MAX_ONE_SIDED || position < 0) {
        throw new IllegalArgumentException("one-sided write of " + length + " file bytes at " + position);
      }
      long key = TcpRegion.keyOf(target);
      if (targetOffset < 0) {
        throw new IllegalArgumentException("write of " + length + " at " + targetOffset + " outside " + target);
      }
      CompletableFuture<Void> done = new CompletableFuture<>();
      ByteBuffer header = header(TcpWire.WRITE, TcpWire.STATUS_OK, key, 0, targetOffset, 0, length);
      try {
        sender.submitFile(header, new TcpSender.FilePart(file, position, length), done);
      } catch (IOException e) {
        close(e);
        throw e;
      }
      return done;
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletableFuture<Void> read(Region target, int targetOffset, RemoteRegion source, long sourceOffset, int length) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      TcpRegion dst = local(target, targetOffset, length);
      long key = TcpRegion.keyOf(source);
      if (sourceOffset < 0) {
        throw new IllegalArgumentException("read of " + length + " at " + sourceOffset + " outside " + source);
      }
      long op = nextOperation.getAndIncrement();
      pendingReads.put(op, new PendingRead(dst, targetOffset, length, done));
      if (closed.get()) {
        failPending(new ClosedChannelException());
      }
      try {
        sendFrame(TcpWire.READ_REQ, TcpWire.STATUS_OK, key, length, sourceOffset, op, null, new CompletableFuture<>());
      } catch (IOException e) {
        pendingReads.remove(op);
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      done.completeExceptionally(e);
    }
    return done;
  }

  private TcpRegion local(Region region, int offset, int length) {
    if (!(region instanceof TcpRegion r) || !region.belongsTo(domain)) {
      throw new IllegalArgumentException(region + " is not registered in this connection's domain");
    }
    if (r.isClosed()) {
      throw new IllegalArgumentException(region + " is closed");
    }
    if (length < 0 || length > TcpWire.MAX_ONE_SIDED) {
      throw new IllegalArgumentException("one-sided length " + length + " outside [0, " + TcpWire.MAX_ONE_SIDED + "]");
    }
    if (!r.contains(offset, length)) {
      throw new IllegalArgumentException(length + " bytes at " + offset + " outside " + region);
    }
    return r;
  }

  private void sendFrame(byte type, byte status, long key, int length, long offset, long op, ByteBuffer payload,
      CompletableFuture<Void> done) throws IOException {
    ByteBuffer header = header(type, status, key, length, offset, op, payload == null ? 0 : payload.remaining());
    try {
      sender.submit(header, payload, done);
    } catch (IOException e) {
      close(e);
      throw e;
    }
  }

  private static ByteBuffer header(byte type, byte status, long key, int length, long offset, long op, int payloadLength) {
    ByteBuffer header = ByteBuffer.allocate(TcpWire.HEADER_BYTES);
    header.putInt(payloadLength).put(type).put(status).putShort((short) 0).putLong(key).putInt(length).putInt(0).putLong(offset).putLong(op);
    return header.flip();
  }

  private void receiveLoop() {
    Throwable cause = null;
    try {
      while (true) {
        if (pauseReading && !sender.awaitBelowHighWater()) {
          throw new TcpSender.PeerStalled("the peer has not read its replies for " + "the stall timeout, with "
              + sender.backlog() + " bytes waiting for it");
        }
        inHeader.clear();
        if (!readFully(inHeader, true)) {
          break;
        }
        inHeader.flip();
        int payloadLength = inHeader.getInt();
        byte type = inHeader.get();
        byte status = inHeader.get();
        short reserved = inHeader.getShort();
        long key = inHeader.getLong();
        int length = inHeader.getInt();
        int reserved2 = inHeader.getInt();
        long offset = inHeader.getLong();
        long op = inHeader.getLong();
        if (reserved != 0 || reserved2 != 0 || payloadLength < 0 || payloadLength > TcpWire.MAX_PAYLOAD) {
          throw new ProtocolViolation("bad transport header");
        }
        switch (type) {
          case TcpWire.MSG -> receiveMessage(payloadLength);
          case TcpWire.WRITE -> receiveWrite(key, offset, payloadLength);
          case TcpWire.READ_REQ -> {
            if (!serveRead(key, offset, length, op, payloadLength)) {
              return; // the refusal is on its way, and the connection closes after it
            }
          }
          case TcpWire.READ_RESP -> receiveReadResponse(op, status, payloadLength);
          default -> throw new ProtocolViolation("unknown transport frame type " + type);
        }
      }
    } catch (ProtocolViolation | TcpSender.PeerStalled | RemoteAccessException e) {
      log.debug("closing connection from {}: {}", remote, e.getMessage());
      cause = e;
    } catch (IOException | ClosedSelectorException e) {
      if (!closed.get()) {
        cause = e;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      log.warn("receive thread of connection to {} failed", remote, e);
      cause = e;
    }
    close(cause);
  }

  private void receiveMessage(int payloadLength) throws IOException {
    if (payloadLength > TcpWire.MAX_MESSAGE) {
      throw new ProtocolViolation("message of " + payloadLength + " bytes exceeds " + TcpWire.MAX_MESSAGE);
    }
    ByteBuffer message = ByteBuffer.allocate(payloadLength);
    domain.messageAllocated(payloadLength);
    readFully(message, false);
    message.flip();
    handler.onMessage(this, Received.owned(message));
  }

  private void receiveWrite(long key, long offset, int payloadLength) throws IOException {
    TcpRegion region = domain.lookup(key);
    if (region == null && domain.recentlyClosed(key) && payloadLength <= TcpWire.MAX_ONE_SIDED) {
      // The owner closed the region while a transfer into it was on its way: the bytes have nowhere
      // to go, but the peer did nothing wrong, so the connection stays up.
      drain(payloadLength);
      domain.discarded(payloadLength);
      return;
    }
    if (region == null || region.isClosed() || !region.access().remoteWrite()) {
      throw new ProtocolViolation("one-sided write to region " + Long.toHexString(key) + " that is not remotely writable");
    }
    if (payloadLength > TcpWire.MAX_ONE_SIDED || !region.contains(offset, payloadLength)) {
      throw new ProtocolViolation("one-sided write of " + payloadLength + " at " + offset + " outside " + region);
    }
    readFully(region.slice(offset, payloadLength), false);
    domain.placed(payloadLength);
  }

  /** Answers a read request; false if it was refused, after which the connection closes. */
  private boolean serveRead(long key, long offset, int length, long op, int payloadLength) throws IOException {
    if (payloadLength != 0) {
      throw new ProtocolViolation("read request with a payload");
    }
    TcpRegion region = domain.lookup(key);
    boolean ok = region != null && !region.isClosed() && region.access().remoteRead()
        && length >= 0 && length <= TcpWire.MAX_ONE_SIDED && region.contains(offset, length);
    // Queued without waiting (TcpSender), so answering from the receive thread cannot stall it.
    if (ok) {
      sendFrame(TcpWire.READ_RESP, TcpWire.STATUS_OK, 0, 0, 0, op, region.slice(offset, length), new CompletableFuture<>());
      return true;
    }
    // A remote access error breaks the connection, as it breaks a queue pair: the peer learns why
    // from the refusal, and nothing it sends after it is read.
    log.info("closing the connection to {}: it asked for a one-sided read of {} bytes at {} of region {}, which it may not read",
        remote, length, offset, Long.toHexString(key));
    sendFrame(TcpWire.READ_RESP, TcpWire.STATUS_ACCESS_ERROR, 0, 0, 0, op, null, new CompletableFuture<>());
    closeAfterSending();
    return false;
  }

  private void drain(int length) throws IOException {
    ByteBuffer scratch = ByteBuffer.allocate(Math.min(length, 64 * 1024));
    int left = length;
    while (left > 0) {
      scratch.clear().limit(Math.min(left, scratch.capacity()));
      readFully(scratch, false);
      left -= scratch.limit();
    }
  }

  private void receiveReadResponse(long op, byte status, int payloadLength) throws IOException {
    PendingRead p = pendingReads.remove(op);
    if (p == null) {
      throw new ProtocolViolation("read response for unknown operation " + op);
    }
    if (status != TcpWire.STATUS_OK) {
      if (payloadLength != 0) {
        throw new ProtocolViolation("failed read response with a payload");
      }
      RemoteAccessException refused = new RemoteAccessException("the peer refused a one-sided read of " + p.length + " bytes");
      p.done.completeExceptionally(refused);
      throw refused;
    }
    if (payloadLength != p.length) {
      throw new ProtocolViolation("read response of " + payloadLength + " bytes for a read of " + p.length);
    }
    // Taken out of pendingReads above, so a close from now on no longer fails it: this method must.
    try {
      if (p.target.isClosed()) {
        readFully(ByteBuffer.allocate(payloadLength), false);
        p.done.completeExceptionally(new IllegalStateException(p.target + " was closed during the read"));
        return;
      }
      readFully(p.target.slice(p.offset, payloadLength), false);
    } catch (IOException | RuntimeException e) {
      p.done.completeExceptionally(e); // the connection dropped in the middle of the response
      throw e;
    }
    domain.placed(payloadLength);
    p.done.complete(null);
  }

  /** Reads until {@code b} is full; false on a clean end of stream before the first byte, if allowed. */
  private boolean readFully(ByteBuffer b, boolean endAllowed) throws IOException {
    boolean first = true;
    while (b.hasRemaining()) {
      int n = channel.read(b);
      if (n <= 0 && b == inHeader) {
        checkLengthSoFar(); // before waiting for more, or taking an end of stream for a cut frame
      }
      if (n == 0) {
        readable.select();
        readable.selectedKeys().clear();
        if (closed.get()) {
          throw new ClosedChannelException();
        }
        continue;
      }
      if (n < 0) {
        if (first && endAllowed) {
          return false;
        }
        throw new EOFException("connection closed in the middle of a frame");
      }
      bytesReceived += n; // the receive thread is its only writer
      first = false;
    }
    return true;
  }

  /**
   * A header's length is checked as soon as its four bytes are in, before the rest is waited for. No
   * frame is longer than {@link TcpWire#MAX_PAYLOAD}, so a peer that speaks another protocol (a banner,
   * an HTTP error: any text) is refused at once, not when 40 bytes have come, which may be never.
   */
  private void checkLengthSoFar() throws ProtocolViolation {
    if (inHeader.position() >= Integer.BYTES) {
      int payloadLength = inHeader.getInt(0);
      if (payloadLength < 0 || payloadLength > TcpWire.MAX_PAYLOAD) {
        throw new ProtocolViolation("bad transport header");
      }
    }
  }

  @Override
  public long bytesReceived() {
    return bytesReceived;
  }

  @Override
  public SocketAddress remoteAddress() {
    return remote;
  }

  @Override
  public boolean canName(RemoteRegion region) {
    return region.size() == TcpWire.DESCRIPTOR_BYTES;
  }

  @Override
  public MemoryDomain domain() {
    return domain;
  }

  @Override
  public Capabilities capabilities() {
    return TcpTransport.CAPABILITIES;
  }

  @Override
  public boolean peerIsLocal() {
    return remote.getAddress().isLoopbackAddress();
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

  private void close(Throwable cause) {
    if (closed.compareAndSet(false, true)) {
      if (cause instanceof TcpSender.PeerStalled) {
        log.info("closing connection to {}: {}", remote, cause.getMessage());
      }
      Throwable failure = cause != null ? cause : new ClosedChannelException();
      sender.close(failure);
      try {
        readable.close(); // wakes the receive thread if it waits for bytes
        channel.close();
      } catch (IOException e) {
        log.debug("closing socket to {}", remote, e);
      }
      failPending(cause != null ? cause : new ClosedChannelException());
      handler.onClosed(this, cause);
    }
  }

  private void failPending(Throwable cause) {
    for (Long op : pendingReads.keySet()) {
      PendingRead p = pendingReads.remove(op);
      if (p != null) {
        p.done.completeExceptionally(cause);
      }
    }
  }

  @Override
  public String toString() {
    return "TcpConnection[" + remote + (closed.get() ? ", closed" : "") + "]";
  }

  /**
   * The peer broke the transport's rules: the connection is closed. A {@link java.net.ProtocolException},
   * so that a client's handshake can tell a peer that speaks something else from one that hung up.
   */
  private static final class ProtocolViolation extends java.net.ProtocolException {
    ProtocolViolation(String message) {
      super(message);
    }
  }
}
