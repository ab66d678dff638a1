package org.cachedafs.transport.shm;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Opening a connection, before anything is shared.
 *
 * <p>The connecting side sends a hello: 8 bytes of magic ({@code DAFS-SHM}), a version (int), the
 * credential's length (int, at most {@link #MAX_CREDENTIAL}) and the credential, big-endian. The
 * listening side reads exactly that, within {@link #HELLO_TIMEOUT_NANOS}, and asks its handler to
 * {@linkplain org.cachedafs.transport.ConnectionHandler#admit admit} the credential before it creates
 * any memory. It answers with a REFUSED record and closes, or with an ACCEPT record carrying the
 * ring file and one end of the doorbell socket pair. Anything else (bytes that are not a hello, a
 * longer one, descriptors attached to it, silence) closes the socket.
 */
final class Handshake {
  private static final byte[] MAGIC = "DAFS-SHM".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;
  static final int MAX_CREDENTIAL = 4096;
  private static final int HEADER = 16;
  static final long HELLO_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
  /** The listener's handler decides on the credential meanwhile; it may take a moment. */
  static final long ANSWER_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(15);

  private Handshake() {}

  static void sendHello(Native nat, int fd, byte[] credential, long deadline) throws IOException {
    if (credential.length > MAX_CREDENTIAL) {
      throw new IllegalArgumentException("a credential has at most " + MAX_CREDENTIAL + " bytes, not " + credential.length);
    }
    byte[] hello = ByteBuffer.allocate(HEADER + credential.length).put(MAGIC).putInt(VERSION).putInt(credential.length).put(credential).array();
    Native.Msg m = nat.new Msg(hello.length);
    m.put(0, hello, 0, hello.length);
    int sent = 0;
    while (sent < hello.length) {
      int n = m.send(fd, sent, hello.length - sent);
      if (n == 0) {
        await(nat, fd, Native.POLLOUT, deadline, "sending the hello");
      }
      sent += n;
    }
  }

  /** Reads a hello; returns its credential. */
  static byte[] readHello(Native nat, int fd, long deadline) throws IOException {
    Native.Msg m = nat.new Msg(HEADER + MAX_CREDENTIAL);
    readExactly(nat, m, fd, 0, HEADER, deadline);
    byte[] header = new byte[HEADER];
    m.get(0, header, 0, HEADER);
    ByteBuffer b = ByteBuffer.wrap(header);
    byte[] magic = new byte[MAGIC.length];
    b.get(magic);
    int version = b.getInt();
    int length = b.getInt();
    if (!Arrays.equals(magic, MAGIC)) {
      throw new PeerViolation("the peer did not open with an shm hello");
    }
    if (version != VERSION) {
      throw new PeerViolation("the peer speaks shm version " + version + ", not " + VERSION);
    }
    if (length < 0 || length > MAX_CREDENTIAL) {
      throw new PeerViolation("a hello with a credential of " + length + " bytes (at most " + MAX_CREDENTIAL + ")");
    }
    readExactly(nat, m, fd, HEADER, length, deadline);
    byte[] credential = new byte[length];
    m.get(HEADER, credential, 0, length);
    return credential;
  }

  private static void readExactly(Native nat, Native.Msg m, int fd, int offset, int length, long deadline) throws IOException {
    int at = 0;
    List<Integer> stray = new ArrayList<>();
    while (at < length) {
      int n;
      try {
        n = m.receive(fd, offset + at, length - at, stray::add);
      } finally {
        for (int d : stray) {
          nat.closeQuietly(d);
        }
      }
      if (!stray.isEmpty()) {
        throw new PeerViolation("the peer attached descriptors to its hello");
      }
      if (n == 0) {
        throw new EOFException("the peer closed the socket during the hello");
      }
      if (n < 0) {
        await(nat, fd, Native.POLLIN, deadline, "waiting for the hello");
      } else {
        at += n;
      }
    }
  }

  /** Sends the answer to a hello; {@code descriptors} go with it. */
  static void answer(Native nat, ControlChannel ch, ControlRecord r, long deadline, int... descriptors) throws IOException {
    while (!ch.trySend(r, descriptors)) {
      await(nat, ch.fd(), Native.POLLOUT, deadline, "answering the hello");
    }
  }

  /** The listener's answer to our hello: ACCEPT or REFUSED (later records stay buffered in {@code ch}). */
  static ControlRecord awaitAnswer(Native nat, ControlChannel ch, long deadline) throws IOException {
    while (true) {
      ControlRecord r = ch.poll();
      if (r != null) {
        return r;
      }
      if (ch.ended()) {
        throw new EOFException("the listener closed the connection without answering the hello");
      }
      await(nat, ch.fd(), Native.POLLIN, deadline, "waiting for the listener to answer the hello");
    }
  }

  private static void await(Native nat, int fd, short events, long deadline, String what) throws IOException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException("timed out " + what);
    }
    Native.PollSet p = nat.new PollSet(1);
    p.set(0, fd, events);
    p.poll((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
  }

  /** Creates and formats the ring file; returns its descriptor (the caller passes and closes it) and mapping. */
  static int createRings(Native nat, String name, MappedByteBuffer[] mapping) throws IOException {
    int fd = nat.memfd(name);
    try {
      nat.ftruncate(fd, Ring.FILE_BYTES);
      mapping[0] = Mappings.map(fd, Ring.FILE_BYTES, true);
      Ring.format(mapping[0]);
      nat.addSeals(fd, Native.F_SEAL_SHRINK | Native.F_SEAL_GROW | Native.F_SEAL_SEAL);
      return fd;
    } catch (IOException | RuntimeException e) {
      if (mapping[0] != null) {
        Mappings.unmap(mapping[0]);
        mapping[0] = null;
      }
      nat.closeQuietly(fd);
      throw e;
    }
  }

  /** Maps the ring file the listener sent, after checking that it cannot shrink under us; closes {@code fd}. */
  static MappedByteBuffer mapRings(Native nat, int fd) throws IOException {
    try {
      PeerMemory.checkMemoryFile(nat, fd, "the ring file");
      MappedByteBuffer m = Mappings.map(fd, Ring.FILE_BYTES, true);
      if (!Ring.formatted(m)) {
        Mappings.unmap(m);
        throw new PeerViolation("the ring file is not formatted for this version");
      }
      return m;
    } finally {
      nat.closeQuietly(fd);
    }
  }
}
