package org.cachedafs.transport.shm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.QueueWaiters;

/**
 * The send half of an shm connection: messages go into the outbound ring and control records onto
 * the control socket, in the order they were submitted, and no thread that submits one ever waits
 * for the peer.
 *
 * <p>What the ring or the socket takes at once is written by the submitting thread, under this
 * sender's lock (which also makes it the ring's single producer). The rest is queued, and a drain
 * thread of the connection, started the first time something has to queue, finishes it as the peer
 * makes room: it waits on the control socket's writability, and for ring space by backing off from
 * spinning to sleeps of up to a millisecond. The queue is bounded by {@link ConnectionLimits}, as on
 * tcp: a submission past the hard limit fails and closes the connection, a queue that does not move
 * for the stall timeout closes it, and above the high water an accepting side stops consuming the
 * peer's messages ({@link ShmConnection}).
 *
 * <p>A control record may go onto the socket ahead of queued ring messages (an announcement early
 * is harmless), never ahead of a queued control record, and a ring message never goes ahead of a
 * queued control record: so a segment and region announcement always reaches the peer before a
 * message that names them.
 */
final class ShmSender {
  /** What a queued item costs beyond its bytes, so that a flood of tiny items is bounded too. */
  static final long ITEM_OVERHEAD = 256;
  private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long MIN_BACKOFF_NANOS = TimeUnit.MICROSECONDS.toNanos(10);
  private static final int POLL_MILLIS = 100;

  private abstract static class Outgoing {
    abstract long bytes();
  }

  private static final class Message extends Outgoing {
    final ByteBuffer payload;

    Message(ByteBuffer payload) {
      this.payload = payload;
    }

    @Override
    long bytes() {
      return payload.remaining();
    }
  }

  private static final class Control extends Outgoing {
    final ControlRecord record;
    /** The descriptor the record carries, owned by this item until sent or dropped; -1 if none. */
    int fd;

    Control(ControlRecord record, int fd) {
      this.record = record;
      this.fd = fd;
    }

    @Override
    long bytes() {
      return ControlRecord.BYTES;
    }
  }

  private final Native nat;
  private final Ring ring;
  private final ControlChannel control;
  private final Runnable doorbell;
  private final ConnectionLimits limits;
  private final Consumer<IOException> fail;
  /** The connection's guard: the drain thread holds it while it runs, so the ring and sockets stay. */
  private final Guard guard;
  private final String name;
  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled when something is queued (the drain thread waits) and when the queue shrinks. */
  private final Condition changed = lock.newCondition();
  /** Guarded by lock. */
  private final ArrayDeque<Outgoing> queue = new ArrayDeque<>();
  /** Guarded by lock: control records in the queue. */
  private int queuedControl;
  /** Bytes queued; written under lock, read anywhere. */
  private final AtomicLong backlog = new AtomicLong();
  /** When the queue last moved (an item was written, or it went from empty to not). */
  private volatile long lastProgress = System.nanoTime();
  private volatile boolean closed;
  /** Callers of whenWritable and closeAfterSending, waiting on this queue. */
  private final QueueWaiters waiters;
  /** Guarded by lock; started when something first has to queue. */
  private Thread drain;
  private final AtomicLong messagesSent = new AtomicLong();

  ShmSender(Native nat, Ring ring, ControlChannel control, Runnable doorbell, ConnectionLimits limits, Guard guard, String name,
      Consumer<IOException> fail) {
    this.nat = nat;
    this.ring = ring;
    this.control = control;
    this.doorbell = doorbell;
    this.limits = limits;
    this.guard = guard;
    this.name = name;
    this.fail = fail;
    this.waiters = new QueueWaiters(lock, limits, backlog::get, queue::isEmpty, () -> closed);
  }

  /**
   * Sends one message (its position and limit are not moved); the caller holds the connection's
   * guard and must not change the bytes afterwards.
   *
   * @throws IOException if closed, or the queue would pass the hard limit, or the peer corrupted
   *     the ring (the connection is then failed)
   */
  void send(ByteBuffer message) throws IOException {
    submit(new Message(message.duplicate()));
  }

  /**
   * Sends one control record, with {@code fd} attached unless negative; this sender owns {@code fd}
   * from now on and closes it once sent or dropped.
   */
  void control(ControlRecord record, int fd) throws IOException {
    submit(new Control(record, fd));
  }

  private void submit(Outgoing out) throws IOException {
    IOException failure = null;
    lock.lock();
    try {
      if (closed) {
        failure = new ClosedChannelException();
      } else {
        boolean direct = out instanceof Control ? queuedControl == 0 : queue.isEmpty();
        try {
          if (direct && write(out)) {
            return;
          }
        } catch (IOException e) {
          failure = e;
        }
        if (failure == null) {
          long bytes = out.bytes() + ITEM_OVERHEAD;
          long after = backlog.get() + bytes;
          if (after > limits.queueHardLimit()) {
            failure = new PeerStalled("the peer let " + after + " bytes pile up unconsumed, more than the limit of " + limits.queueHardLimit());
          } else {
            if (queue.isEmpty()) {
              lastProgress = System.nanoTime();
            }
            queue.add(out);
            if (out instanceof Control) {
              queuedControl++;
            }
            backlog.addAndGet(bytes);
            startDrain();
            changed.signalAll();
            return;
          }
        }
      }
    } finally {
      lock.unlock();
    }
    drop(out);
    if (!(failure instanceof ClosedChannelException)) {
      fail.accept(failure);
    }
    throw failure;
  }

  /** Guarded by lock. */
  private void startDrain() {
    if (drain == null) {
      drain = new Thread(this::drainLoop, name);
      drain.setDaemon(true);
      drain.start();
    }
  }

  /** Writes one item if the ring or socket takes it now; under lock. */
  private boolean write(Outgoing out) throws IOException {
    if (out instanceof Message m) {
      if (!ring.offer(m.payload)) {
        return false;
      }
      messagesSent.incrementAndGet();
      if (ring.claimWakeup()) {
        doorbell.run();
      }
      return true;
    }
    Control c = (Control) out;
    if (!(c.fd < 0 ? control.trySend(c.record) : control.trySend(c.record, c.fd))) {
      return false;
    }
    nat.closeQuietly(c.fd); // the peer has its own reference to the file now
    c.fd = -1;
    ring.controlSent();
    return true;
  }

  private void drop(Outgoing out) {
    if (out instanceof Control c) {
      nat.closeQuietly(c.fd);
      c.fd = -1;
    }
  }

  /** Bytes queued and not yet written. */
  long backlog() {
    return backlog.get();
  }

  /** How long the queue has not moved while not empty, in nanoseconds (0 when empty). */
  long stalledNanos() {
    return backlog.get() == 0 ? 0 : System.nanoTime() - lastProgress;
  }

  boolean writable() {
    return backlog.get() <= limits.queueHighWater();
  }

  long messagesSent() {
    return messagesSent.get();
  }

  Thread drainThread() {
    lock.lock();
    try {
      return drain;
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code r} now if writable, else once the queue has drained to half the high water or closed. */
  void whenWritable(Runnable r) {
    waiters.whenWritable(r);
  }

  /** Runs {@code r} once everything submitted so far is written (now, if it is), or when the connection closes. */
  void whenEmpty(Runnable r) {
    waiters.whenEmpty(r);
  }

  private void drainLoop() {
    if (!guard.enter()) {
      return;
    }
    Native.PollSet writable = nat.new PollSet(1);
    long stall = limits.stallTimeout().toNanos();
    long backoff = 0;
    try {
      while (true) {
        Outgoing head;
        boolean written;
        List<Runnable> due = List.of();
        lock.lock();
        try {
          while (queue.isEmpty() && !closed) {
            changed.await();
          }
          if (closed) {
            return;
          }
          head = queue.peek();
          written = write(head);
          if (written) {
            queue.poll();
            if (head instanceof Control) {
              queuedControl--;
            }
            backlog.addAndGet(-head.bytes() - ITEM_OVERHEAD);
            lastProgress = System.nanoTime();
            changed.signalAll();
            due = waiters.due();
          }
        } finally {
          lock.unlock();
        }
        QueueWaiters.runAll(due);
        if (written) {
          backoff = 0;
          continue;
        }
        if (System.nanoTime() - lastProgress > stall) {
          fail.accept(new PeerStalled("the peer has consumed nothing for " + limits.stallTimeout().toMillis() + " ms with "
              + backlog.get() + " bytes waiting for it"));
          return;
        }
        if (head instanceof Control) {
          writable.set(0, control.fd(), Native.POLLOUT);
          writable.poll(POLL_MILLIS);
        } else {
          // The peer's consumer makes room without telling us: back off from a spin to short sleeps.
          backoff = backoff == 0 ? MIN_BACKOFF_NANOS : Math.min(MAX_BACKOFF_NANOS, backoff * 2);
          LockSupport.parkNanos(this, backoff);
        }
      }
    } catch (IOException e) {
      if (!closed) {
        fail.accept(e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      // A callback that threw must not leave the connection without its drain thread.
      fail.accept(new IOException("the send thread failed", e));
    } finally {
      guard.exit();
    }
  }

  /** Drops everything queued (closing the descriptors it carried) and stops the drain thread. */
  void close() {
    List<Runnable> due;
    Thread d;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      for (Outgoing o; (o = queue.poll()) != null; ) {
        drop(o);
      }
      queuedControl = 0;
      backlog.set(0);
      changed.signalAll();
      due = waiters.due();
      d = drain;
    } finally {
      lock.unlock();
    }
    if (d != null) {
      LockSupport.unpark(d);
    }
    QueueWaiters.runAll(due);
  }

  /** The peer stopped taking messages: the connection is closed. */
  static final class PeerStalled extends IOException {
    PeerStalled(String message) {
      super(message);
    }
  }
}
