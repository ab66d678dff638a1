package org.cachedafs.transport.shm;

import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayDeque;

/**
 * A connection's control socket: fixed-size {@link ControlRecord}s, some with a descriptor attached.
 *
 * <p>Sending is the {@link ShmSender}'s, under its lock. Receiving is done under this channel's lock
 * by whichever thread needs the records now: the receive thread before it delivers ring messages,
 * or a thread about to use a descriptor the peer announced a moment ago. Bytes are read without
 * waiting; whole records are handed on, a partial one stays buffered. Descriptors that arrive are
 * queued in order and taken by the records that carry one; any left over at close are closed.
 */
final class ControlChannel {
  /** Handles one record; {@link #takeDescriptor} gives the descriptor a record carries. */
  interface Handler {
    void record(ControlRecord r) throws IOException;
  }

  /** More descriptors waiting for their records than any honest peer sends at once. */
  private static final int MAX_PENDING_FDS = 2 * Native.MAX_FDS_PER_MESSAGE;
  private static final int BUFFER = 64 * ControlRecord.BYTES;

  private final Native nat;
  private final int fd;
  private final Native.Msg out;
  private final Native.Msg in;
  private final byte[] bytes = new byte[BUFFER];
  /** Guarded by this: bytes {@code [start, filled)} are received and not yet handed on. */
  private int start;
  /** Guarded by this. */
  private int filled;
  /** Guarded by this. */
  private final ArrayDeque<Integer> fds = new ArrayDeque<>();
  /** Guarded by this. */
  private boolean ended;

  ControlChannel(Native nat, int fd) {
    this.nat = nat;
    this.fd = fd;
    this.out = nat.new Msg(ControlRecord.BYTES);
    this.in = nat.new Msg(BUFFER);
  }

  int fd() {
    return fd;
  }

  /**
   * Sends one record with {@code descriptors} attached, without waiting; false if the socket has no
   * room for it now. The caller serializes senders.
   */
  boolean trySend(ControlRecord r, int... descriptors) throws IOException {
    byte[] b = r.encode();
    out.put(0, b, 0, b.length);
    int n = out.send(fd, 0, b.length, descriptors);
    if (n == 0) {
      return false;
    }
    if (n != b.length) {
      // A stream socket takes a record this small whole or not at all (one skb).
      throw new IOException("the control socket took " + n + " of a " + b.length + "-byte record");
    }
    return true;
  }

  /**
   * Reads what the socket holds now and hands each whole record to {@code handler}. Returns false
   * once the peer has closed its end (records before the end are handled first).
   */
  synchronized boolean receive(Handler handler) throws IOException {
    for (ControlRecord r; (r = poll()) != null; ) {
      handler.record(r);
    }
    if (start == filled && !fds.isEmpty()) {
      throw new PeerViolation("the peer sent " + fds.size() + " descriptors no record asked for");
    }
    return !ended;
  }

  /**
   * The next whole record, reading from the socket without waiting only if none is buffered; null
   * if there is none now or the peer has closed its end ({@link #ended}).
   */
  synchronized ControlRecord poll() throws IOException {
    while (filled - start < ControlRecord.BYTES) {
      if (ended) {
        if (filled != start) {
          throw new EOFException("the peer closed the control socket in the middle of a record");
        }
        return null;
      }
      if (start > 0) {
        System.arraycopy(bytes, start, bytes, 0, filled - start);
        filled -= start;
        start = 0;
      }
      int n = in.receive(fd, filled, BUFFER - filled, fds::add);
      if (fds.size() > MAX_PENDING_FDS) {
        throw new PeerViolation("the peer sent " + fds.size() + " descriptors no record asked for");
      }
      if (n < 0) {
        return null;
      }
      if (n == 0) {
        ended = true;
        continue;
      }
      in.get(filled, bytes, filled, n);
      filled += n;
    }
    ControlRecord r = ControlRecord.decode(bytes, start);
    start += ControlRecord.BYTES;
    return r;
  }

  /** Whether the peer has closed its end of the socket. */
  synchronized boolean ended() {
    return ended;
  }

  /** The next descriptor that arrived, for the record being handled; the caller owns it. */
  synchronized int takeDescriptor() throws PeerViolation {
    Integer d = fds.poll();
    if (d == null) {
      throw new PeerViolation("a control record that carries a descriptor came without one");
    }
    return d;
  }

  /** Closes descriptors that arrived and were never taken. */
  synchronized void closeStrayDescriptors() {
    for (Integer d; (d = fds.poll()) != null; ) {
      nat.closeQuietly(d);
    }
  }
}
