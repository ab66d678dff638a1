package org.cachedafs.transport.shm;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One direction of a connection's message rings: a single-producer, single-consumer byte ring in
 * the shared ring file, seen from one side (as its producer or as its consumer).
 *
 * <p>The ring file holds a header page and two rings, each a control page and {@link #RING_BYTES}
 * of data. Ring 0 carries the accepting side's messages, ring 1 the connecting side's. The control
 * page keeps each field on a cache line of its own:
 * <pre>
 *  +0    produced       bytes published, written by the producer (release)
 *  +64   consumed       bytes consumed, written by the consumer (release)
 *  +128  sleeping       non-zero while the consumer waits on the doorbell
 *  +192  control sent   records the producer's side sent on the control socket so far
 * </pre>
 * A record is an 8-byte header (int length, int type) and the message, padded to 8 bytes. A message
 * that does not fit before the end of the data is preceded by a SKIP record filling the rest.
 *
 * <p>Both sides keep their own index in a local field and only ever write it to shared memory; what
 * they read of the other side's (and every record header) is validated as hostile input, read once,
 * and a violation is a {@link PeerViolation}: the connection closes. The consumer allocates at most
 * {@link #MAX_MESSAGE} bytes per record and never goes past the produced index it read.
 */
final class Ring {
  /** Data bytes per direction: the next power of two above the largest record. */
  static final int RING_BYTES = 2 << 20;
  private static final int MASK = RING_BYTES - 1;
  /** The largest message: a 1 MiB payload and its protocol header, with room to spare (as tcp). */
  static final int MAX_MESSAGE = (1 << 20) + 64 * 1024;
  static final int HEADER = 8;
  static final int MSG = 1;
  static final int SKIP = 2;
  private static final int FILE_HEADER = 4096;
  private static final int CONTROL_PAGE = 4096;
  static final int FILE_BYTES = FILE_HEADER + 2 * (CONTROL_PAGE + RING_BYTES);
  private static final long MAGIC = 0x314d485353464144L; // "DAFSSHM1", little-endian
  static final int PRODUCED = 0;
  static final int CONSUMED = 64;
  static final int SLEEPING = 128;
  static final int CONTROL_SENT = 192;
  private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

  /** Receives one message, copied out of the ring into a heap buffer the receiver owns. */
  interface Sink {
    void accept(ByteBuffer message) throws IOException;
  }

  private final ByteBuffer file;
  private final int control;
  private final int data;
  /** Producer: bytes published; consumer: bytes consumed. Only this side's thread of the role touches it. */
  private long position;
  /** Producer: control records sent (under the sender's lock). Consumer: records processed (under the control lock). */
  private volatile long controlRecords;

  private Ring(ByteBuffer file, int direction) {
    this.file = file.duplicate().order(ByteOrder.nativeOrder());
    this.control = controlOffset(direction);
    this.data = dataOffset(direction);
  }

  /** Where ring {@code direction}'s control page starts in the ring file; its data follow the page. */
  static int controlOffset(int direction) {
    return FILE_HEADER + direction * (CONTROL_PAGE + RING_BYTES);
  }

  static int dataOffset(int direction) {
    return controlOffset(direction) + CONTROL_PAGE;
  }

  /** Writes the file's header; the rest of a fresh memory file is zeros, which is two empty rings. */
  static void format(ByteBuffer file) {
    file.duplicate().order(ByteOrder.LITTLE_ENDIAN).putLong(0, MAGIC).putInt(8, RING_BYTES);
  }

  /** The ring this side produces into ({@code accepting}: ring 0). */
  static Ring outbound(ByteBuffer file, boolean accepting) {
    return new Ring(file, accepting ? 0 : 1);
  }

  /** The ring this side consumes. */
  static Ring inbound(ByteBuffer file, boolean accepting) {
    return new Ring(file, accepting ? 1 : 0);
  }

  static boolean formatted(ByteBuffer file) {
    ByteBuffer b = file.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    return b.getLong(0) == MAGIC && b.getInt(8) == RING_BYTES;
  }

  // -- producer

  /**
   * Publishes {@code message} (from its position to its limit, which are not moved) if the ring has
   * room for it now; false if not (a SKIP record may have been published meanwhile). The caller
   * serializes producers.
   *
   * @throws PeerViolation if the consumer's index is impossible (the peer corrupted it)
   */
  boolean offer(ByteBuffer message) throws PeerViolation {
    int length = message.remaining();
    int total = (HEADER + length + 7) & ~7;
    long used = used();
    int index = (int) (position & MASK);
    int toEnd = RING_BYTES - index;
    if (total > toEnd) {
      if (RING_BYTES - used < toEnd) {
        return false;
      }
      file.putInt(data + index, toEnd - HEADER);
      file.putInt(data + index + 4, SKIP);
      position += toEnd;
      LONGS.setRelease(file, control + PRODUCED, position);
      used += toEnd;
    }
    if (RING_BYTES - used < total) {
      return false;
    }
    index = (int) (position & MASK);
    file.putInt(data + index, length);
    file.putInt(data + index + 4, MSG);
    file.put(data + index + HEADER, message, message.position(), length);
    position += total;
    LONGS.setRelease(file, control + PRODUCED, position);
    return true;
  }

  private long used() throws PeerViolation {
    long consumed = (long) LONGS.getAcquire(file, control + CONSUMED);
    long used = position - consumed;
    if (used < 0 || used > RING_BYTES || (consumed & 7) != 0) {
      throw new PeerViolation("the peer's consumer index of the ring is " + consumed + " while " + position + " bytes were published");
    }
    return used;
  }

  /** Whether the ring has nothing of ours left in it for the consumer (everything published was consumed). */
  boolean drained() throws PeerViolation {
    return used() == 0;
  }

  /**
   * After publishing: whether the consumer sleeps on the doorbell, in which case this call has taken
   * the duty of waking it (clearing the flag) and the caller must ring once.
   */
  boolean claimWakeup() {
    VarHandle.fullFence(); // the published index before the flag: pairs with the consumer's fence in sleep()
    long s = (long) LONGS.getVolatile(file, control + SLEEPING);
    return s != 0 && LONGS.compareAndSet(file, control + SLEEPING, s, 0L);
  }

  /** Counts one record sent on the control socket, after it is in the socket. */
  void controlSent() {
    long n = controlRecords + 1;
    controlRecords = n;
    LONGS.setRelease(file, control + CONTROL_SENT, n);
  }

  // -- consumer

  /** Whether the producer has published past what this side consumed (unvalidated: a hint to look). */
  boolean hasMessages() {
    return (long) LONGS.getAcquire(file, control + PRODUCED) != position;
  }

  /**
   * Announces that the consumer is about to wait on the doorbell, then looks once more; returns
   * whether it may sleep (nothing was published meanwhile).
   */
  boolean sleep() {
    LONGS.setVolatile(file, control + SLEEPING, 1L);
    return !hasMessages();
  }

  void awake() {
    LONGS.setOpaque(file, control + SLEEPING, 0L);
  }

  boolean asleep() {
    return (long) LONGS.getVolatile(file, control + SLEEPING) != 0;
  }

  /**
   * Hands the messages published so far to {@code sink}, each copied out of the ring, releasing its
   * space before the sink sees it. Returns how many there were. Never reads past the produced index
   * read on entry, so it ends even if the producer keeps publishing.
   *
   * @throws PeerViolation if an index or a record header is impossible
   */
  int drain(Sink sink) throws IOException {
    long produced = (long) LONGS.getAcquire(file, control + PRODUCED);
    long available = produced - position;
    if (available < 0 || available > RING_BYTES || (produced & 7) != 0) {
      throw new PeerViolation("the peer's producer index of the ring is " + produced + " while " + position + " bytes were consumed");
    }
    int count = 0;
    while (available > 0) {
      if (available < HEADER) {
        throw new PeerViolation("the ring ends in the middle of a record header");
      }
      int index = (int) (position & MASK);
      int toEnd = RING_BYTES - index;
      int length = file.getInt(data + index);
      int type = file.getInt(data + index + 4);
      int total;
      if (type == SKIP) {
        if (length != toEnd - HEADER || toEnd > available) {
          throw new PeerViolation("a skip record of " + length + " bytes where " + (toEnd - HEADER) + " are left before the end of the ring");
        }
        total = toEnd;
      } else if (type == MSG) {
        if (length < 0 || length > MAX_MESSAGE) {
          throw new PeerViolation("a ring message of " + length + " bytes (at most " + MAX_MESSAGE + ")");
        }
        total = (HEADER + length + 7) & ~7;
        if (total > toEnd || total > available) {
          throw new PeerViolation("a ring message of " + length + " bytes runs past the " + Math.min(toEnd, available) + " published");
        }
      } else {
        throw new PeerViolation("unknown ring record type " + type);
      }
      ByteBuffer message = null;
      if (type == MSG) {
        message = ByteBuffer.allocate(length);
        message.put(0, file, data + index + HEADER, length);
      }
      position += total;
      available -= total;
      LONGS.setRelease(file, control + CONSUMED, position);
      if (message != null) {
        count++;
        sink.accept(message);
      }
    }
    return count;
  }

  /**
   * How many control records the producer's side says it has sent on the control socket so far. It
   * counts a record once it is in the socket, so this side may have processed more than that (a
   * record read in the moment between), never fewer once it has read what the socket holds.
   */
  long peerControlSent() {
    return (long) LONGS.getAcquire(file, control + CONTROL_SENT);
  }

  /** Counts one record processed; the caller holds the control lock. */
  void controlProcessed() {
    controlRecords = controlRecords + 1;
  }

  long controlRecords() {
    return controlRecords;
  }
}
