package org.cachedafs.transport.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.QueueWaiters;

/**
 * The send half of a tcp connection: frames go onto the socket in the order they were submitted,
 * and no thread that submits one ever waits for the peer.
 *
 * <p>A frame submitted while nothing is queued is written at once by the submitting thread, on the
 * non-blocking socket, so the common case costs no hand-off. Whatever the socket does not take is
 * queued, and this connection's own drain thread finishes it when the socket has room again. So a
 * peer that stops reading can only ever stall its own drain thread. The queue is bounded by
 * {@link ConnectionLimits}: the receive side stops reading the peer above the high water
 * ({@link #awaitBelowHighWater}), a submission past the hard limit fails, and a queue that has not
 * moved for the stall timeout closes the connection.
 *
 * <p>A frame's payload is read in place until it is on the wire (its future completes then), so one
 * -sided writes copy nothing here; the caller keeps the memory unchanged until then. A payload may
 * also come from a file, which the kernel moves to the socket itself (sendfile).
 */
final class TcpSender {
  /**
   * What a queued frame costs beyond its bytes (its objects and future), charged to the backlog so
   * that a flood of tiny frames is bounded by the same limits as a few large ones.
   */
  static final long FRAME_OVERHEAD = 256;

  /** File bytes that follow a frame's header, moved by the kernel from the file to the socket (sendfile). */
  record FilePart(FileChannel file, long position, int length) {}

  /** A frame: its own header, an optional payload (bytes or file), and who waits for it to leave. */
  private static final class Outgoing {
    final ByteBuffer[] buffers;
    final FilePart file;
    final CompletableFuture<Void> done;
    /** Written only by the thread writing the frame (the submitter, or the drain thread once queued). */
    long fileSent;

    Outgoing(ByteBuffer[] buffers, FilePart file, CompletableFuture<Void> done) {
      this.buffers = buffers;
      this.file = file;
      this.done = done;
    }

    long remaining() {
      return TcpSender.remaining(buffers) + (file == null ? 0 : file.length() - fileSent);
    }

    /** Writes what the socket takes now; returns the bytes moved. */
    long writeSome(SocketChannel channel) throws IOException {
      long before = remaining();
      while (TcpSender.remaining(buffers) > 0) {
        if (channel.write(buffers) == 0) {
          return before - remaining();
        }
      }
      while (file != null && fileSent < file.length()) {
        long at = file.position() + fileSent;
        long n = file.file().transferTo(at, file.length() - fileSent, channel);
        if (n > 0) {
          fileSent += n;
          continue;
        }
        if (at < file.file().size()) {
          break; // the socket is full
        }
        // The file was cut short after the frame promised its length: what is missing goes as zeros.
        int w = channel.write(ByteBuffer.allocate((int) Math.min(64 * 1024, file.length() - fileSent)));
        if (w == 0) {
          break;
        }
        fileSent += w;
      }
      return before - remaining();
    }
  }

  private final SocketChannel channel;
  private final ConnectionLimits limits;
  private final Selector writable;
  /** Closes the whole connection; called at most once by this side with the cause. */
  private final Consumer<IOException> fail;
  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled when something is queued (the drain thread waits) and when the queue shrinks (the receive thread waits). */
  private final Condition changed = lock.newCondition();
  /** Guarded by lock. The head is being written by the drain thread. */
  private final ArrayDeque<Outgoing> queue = new ArrayDeque<>();
  /** Bytes queued and not yet written; written under lock, read anywhere. */
  private final AtomicLong backlog = new AtomicLong();
  /** When the queue last moved (a write took bytes, or it went from empty to not). */
  private volatile long lastProgress = System.nanoTime();
  private volatile boolean closed;
  /** Callers of whenWritable and closeAfterSending, waiting on this queue. */
  private final QueueWaiters waiters;
  private final Thread drain;

  TcpSender(SocketChannel channel, ConnectionLimits limits, String name, Consumer<IOException> fail) throws IOException {
    this.channel = channel;
    this.limits = limits;
    this.fail = fail;
    this.writable = Selector.open();
    try {
      channel.register(writable, SelectionKey.OP_WRITE);
    } catch (IOException | RuntimeException e) {
      writable.close();
      throw e;
    }
    this.drain = new Thread(this::drainLoop, name);
    drain.setDaemon(true);
    this.waiters = new QueueWaiters(lock, limits, backlog::get, queue::isEmpty, () -> closed);
  }

  void start() {
    drain.start();
  }

  /**
   * Sends a header and an optional payload as one frame; completes {@code done} once both are on the
   * wire. Never waits for the peer.
   *
   * @throws IOException if closed, or if queueing the frame would pass the hard limit (the
   *     connection is then failed)
   */
  void submit(ByteBuffer header, ByteBuffer payload, CompletableFuture<Void> done) throws IOException {
    submit(new Outgoing(payload == null ? new ByteBuffer[] {header} : new ByteBuffer[] {header, payload}, null, done));
  }

  /** As {@link #submit(ByteBuffer, ByteBuffer, CompletableFuture)}, the payload coming from a file. */
  void submitFile(ByteBuffer header, FilePart file, CompletableFuture<Void> done) throws IOException {
    submit(new Outgoing(new ByteBuffer[] {header}, file, done));
  }

  private void submit(Outgoing out) throws IOException {
    IOException overflow = null;
    lock.lock();
    try {
      if (closed) {
        throw new ClosedChannelException();
      }
      if (queue.isEmpty()) {
        out.writeSome(channel);
        if (out.remaining() == 0) {
          out.done.complete(null);
          return;
        }
      }
      long bytes = out.remaining() + FRAME_OVERHEAD;
      long after = backlog.get() + bytes;
      if (after > limits.queueHardLimit()) {
        overflow = new PeerStalled("the peer let " + after + " bytes pile up unread, more than the limit of "
            + limits.queueHardLimit());
      } else {
        if (queue.isEmpty()) {
          lastProgress = System.nanoTime();
        }
        queue.add(out);
        backlog.addAndGet(bytes);
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
    if (overflow != null) {
      fail.accept(overflow);
      throw overflow;
    }
  }

  /** Bytes queued and not yet on the wire. */
  long backlog() {
    return backlog.get();
  }

  boolean writable() {
    return backlog.get() <= limits.queueHighWater();
  }

  /** Runs {@code r} now if writable, else once the queue has drained to half the high water or closed. */
  void whenWritable(Runnable r) {
    waiters.whenWritable(r);
  }

  /** Runs {@code r} once everything submitted so far is on the wire (now, if it is), or when the connection closes. */
  void whenEmpty(Runnable r) {
    waiters.whenEmpty(r);
  }

  /**
   * Waits, on the receive thread, while the backlog is above the high water, until it falls to half
   * of it. A peer that does not read its replies thus stops being read, so it cannot make this side
   * produce more. Returns false if the backlog did not move for the stall timeout (the caller closes).
   */
  boolean awaitBelowHighWater() throws InterruptedException {
    if (backlog.get() <= limits.queueHighWater()) {
      return true;
    }
    long resumeAt = limits.queueHighWater() / 2;
    long timeout = limits.stallTimeout().toNanos();
    lock.lock();
    try {
      while (!closed && backlog.get() > resumeAt) {
        long idle = System.nanoTime() - lastProgress;
        if (idle >= timeout) {
          return false;
        }
        changed.awaitNanos(timeout - idle);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  private void drainLoop() {
    long stall = limits.stallTimeout().toNanos();
    Outgoing head = null;
    Throwable failure = null;
    try {
      while (true) {
        lock.lock();
        try {
          while (queue.isEmpty() && !closed) {
            changed.await();
          }
          if (closed) {
            return;
          }
          head = queue.peek();
        } finally {
          lock.unlock();
        }
        // Only this thread writes while the queue is not empty, so the head is written outside the
        // lock; close() leaves the head's future to this thread, which alone knows when its memory
        // is no longer read.
        long moved = head.writeSome(channel);
        if (moved > 0) {
          lastProgress = System.nanoTime();
        }
        boolean written = head.remaining() == 0;
        List<Runnable> due;
        lock.lock();
        try {
          backlog.addAndGet(-moved - (written ? FRAME_OVERHEAD : 0));
          if (written) {
            queue.poll();
          }
          if (moved > 0) {
            changed.signalAll();
          }
          due = waiters.due();
        } finally {
          lock.unlock();
        }
        if (written) {
          Outgoing done = head;
          head = null;
          done.done.complete(null);
        }
        QueueWaiters.runAll(due);
        if (!written && moved == 0) {
          if (System.nanoTime() - lastProgress > stall) {
            failure = new PeerStalled("the peer has read nothing for " + limits.stallTimeout().toMillis() + " ms with "
                + backlog.get() + " bytes waiting for it");
            fail.accept((IOException) failure);
            return;
          }
          writable.select(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(stall), 1000)));
          writable.selectedKeys().clear();
        }
      }
    } catch (IOException e) {
      failure = e;
      if (!closed) {
        fail.accept(e);
      }
    } catch (ClosedSelectorException e) {
      failure = new ClosedChannelException(); // closed while waiting: the connection is going away
    } catch (InterruptedException e) {
      failure = e;
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      // A callback or a completion that threw must not leave the connection without its drain thread.
      failure = e;
      fail.accept(new IOException("the send thread failed", e));
    } finally {
      if (head != null) {
        head.done.completeExceptionally(failure != null ? failure : new ClosedChannelException());
      }
    }
  }

  private static long remaining(ByteBuffer[] buffers) {
    long n = 0;
    for (ByteBuffer b : buffers) {
      n += b.remaining();
    }
    return n;
  }

  /**
   * Fails every queued frame with {@code cause} and stops the drain thread (which fails the frame it
   * was writing itself). The socket is the connection's to close.
   */
  void close(Throwable cause) {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      writable.close();
    } catch (IOException ignored) {
      // Nothing is left to release.
    }
    List<Runnable> due;
    lock.lock();
    try {
      // The head may be under the drain thread's write this moment: its future is the drain thread's
      // to complete, once it has stopped reading the frame's memory. The rest are failed here.
      Outgoing head = queue.poll();
      for (Outgoing o; (o = queue.poll()) != null; ) {
        o.done.completeExceptionally(cause);
      }
      if (head != null && !drain.isAlive()) {
        head.done.completeExceptionally(cause);
      }
      backlog.set(0);
      due = waiters.due();
    } finally {
      lock.unlock();
    }
    QueueWaiters.runAll(due);
  }

  /** The peer stopped taking bytes: the connection is closed, and its session left to its lease. */
  static final class PeerStalled extends IOException {
    PeerStalled(String message) {
      super(message);
    }
  }
}
