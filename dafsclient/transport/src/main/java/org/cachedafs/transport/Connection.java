package org.cachedafs.transport;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;

/** One reliable, ordered connection to a peer (a queue pair). Thread-safe. */
public interface Connection extends AutoCloseable {
  /**
   * Sends one message without waiting for the peer: what the socket cannot take at once is queued
   * (see {@link ConnectionLimits}). The connection reads {@code message} until it is on the wire, so
   * the caller must not change its bytes after the call; its position is not moved.
   *
   * @throws IOException if the connection is closed, or the peer let too much pile up (the
   *     connection is then closed)
   */
  void send(ByteBuffer message) throws IOException;

  /**
   * One-sided write: moves {@code length} bytes of the local {@code source} region at
   * {@code sourceOffset} into the peer's {@code target} region at {@code targetOffset}. Never waits
   * for the peer. Completes when the bytes have left this side (local completion, as with RDMA
   * WRITE): until then the source memory must stay as it is. A message sent afterwards
   * is delivered after them. A target the peer never exposed for remote writing, or a range outside
   * it, is a remote access error and closes the connection. A region the peer closed meanwhile is
   * never written into memory it has reused: the bytes are dropped, or the connection closes.
   */
  CompletableFuture<Void> write(Region source, int sourceOffset, RemoteRegion target, long targetOffset, int length);

  /**
   * One-sided write straight from a file: moves {@code length} bytes of {@code file} at
   * {@code position} into the peer's {@code target} region at {@code targetOffset}, by the
   * transport's own path from the file to the wire where it has one (tcp: sendfile), so that the
   * bytes never pass through user memory on this side. The bytes are read from the file when they go
   * on the wire; if the file is shorter by then, the missing bytes arrive as zeros. Never waits for
   * the peer; completes as {@link #write} does.
   */
  CompletableFuture<Void> writeFromFile(FileChannel file, long position, int length, RemoteRegion target, long targetOffset);

  /**
   * One-sided read: moves {@code length} bytes of the peer's {@code source} region at
   * {@code sourceOffset} into the local {@code target} region at {@code targetOffset}. Completes when
   * they are in local memory, or fails with {@link RemoteAccessException}.
   *
   * <p>As on a reliable-connected queue pair, a remote access error (a descriptor the peer does not
   * know, outside the region, or without read access) is fatal: the connection closes, and every
   * transfer still pending on it fails.
   */
  CompletableFuture<Void> read(Region target, int targetOffset, RemoteRegion source, long sourceOffset, int length);

  /**
   * Whether what waits to go to the peer is below the connection's high water (see
   * {@link ConnectionLimits}). A server stops starting a session's work while its connection is not
   * writable, so that a peer that does not read its replies cannot make it produce more.
   */
  default boolean isWritable() {
    return true;
  }

  /**
   * Runs {@code r} once, when the queue has drained to half the high water or the connection has
   * closed; at once (on the calling thread) if it is writable now. Called back on the connection's
   * own thread: {@code r} must not block.
   */
  default void whenWritable(Runnable r) {
    r.run();
  }

  /**
   * Bytes that have arrived from the peer so far: its messages, and the data of one-sided transfers the
   * peer sent over this connection (not bytes this side moved itself, as shm's one-sided reads are).
   * It only grows, and it grows while a long transfer is still arriving (tcp counts each socket read),
   * so that a layer above can tell a peer that is sending from one that has gone quiet, even when the
   * peer's next message waits behind its own data on a slow link.
   */
  long bytesReceived();

  /** The peer's address, as the provider knows it (an inet address for tcp, a socket path for shm). */
  SocketAddress remoteAddress();

  /**
   * Whether {@code region} is a descriptor of this connection's provider at all (its form, not whether
   * the peer has such a region). A descriptor of another provider is refused locally by the
   * one-sided operations with {@link IllegalArgumentException}; a layer above that may hold
   * descriptors made for another transport (a session moving between transports) asks first.
   */
  boolean canName(RemoteRegion region);

  /** The protection domain whose regions this connection's one-sided transfers use (a queue pair's PD). */
  MemoryDomain domain();

  /** What this connection's provider can do. */
  Capabilities capabilities();

  /** Whether the peer runs on this host (a loopback tcp peer, every shm peer). */
  boolean peerIsLocal();

  boolean isOpen();

  /** An object the layer above keeps with the connection (its session, for the server). */
  Object attachment();

  void attach(Object attachment);

  /**
   * Closes the connection once everything sent before this call is on the wire (a refusal, the last
   * reply of a session), or at once if nothing is waiting; a peer that does not take it within the
   * stall timeout is closed anyway.
   */
  default void closeAfterSending() {
    close();
  }

  /** Closes the connection; pending one-sided reads fail. Idempotent. */
  @Override
  void close();
}
