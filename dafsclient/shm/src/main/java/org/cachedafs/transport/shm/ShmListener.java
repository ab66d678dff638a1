package org.cachedafs.transport.shm;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;
import org.cachedafs.logging.Loggers;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Listener;
import org.slf4j.Logger;

/**
 * Accepts shm connections on a Unix socket until closed. Each accepted socket gets its own thread
 * (it becomes the connection's receive thread), which reads the hello, asks the handler to admit the
 * credential, and only then creates and passes the ring file.
 *
 * <p>If the socket's directory does not exist, it is created owner-only (0700) and removed again
 * when the listener closes, with the socket file; a directory that existed is left alone.
 */
final class ShmListener implements Listener {
  private static final Logger log = Loggers.get(ShmListener.class);
  private static final AtomicInteger NUMBERS = new AtomicInteger();
  private static final int BACKLOG = 256;
  private static final long MAX_BACKOFF_MILLIS = 1000;

  private final Native nat;
  private final int fd;
  private final UnixDomainSocketAddress local;
  private final Path createdDirectory;
  private final ShmDomain domain;
  private final ConnectionHandler handler;
  private final ConnectionLimits limits;
  private final Thread acceptor;
  private volatile boolean closed;

  ShmListener(Native nat, UnixDomainSocketAddress address, ShmDomain domain, ConnectionHandler handler, ConnectionLimits limits)
      throws IOException {
    this.nat = nat;
    this.local = address;
    this.domain = domain;
    this.handler = handler;
    this.limits = limits;
    Path path = address.getPath().toAbsolutePath();
    Path dir = path.getParent();
    Path created = null;
    if (dir != null && !Files.exists(dir)) {
      created = Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    this.createdDirectory = created;
    int s = -1;
    try {
      s = nat.socket(false);
      nat.bind(s, path);
      nat.listen(s, BACKLOG);
    } catch (IOException | RuntimeException e) {
      nat.closeQuietly(s);
      removeFiles(s >= 0 && Files.exists(path));
      throw e;
    }
    this.fd = s;
    this.acceptor = new Thread(this::acceptLoop, "dafs-shm-accept-" + NUMBERS.incrementAndGet());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void acceptLoop() {
    long backoff = 0;
    while (!closed) {
      int c;
      try {
        c = nat.accept(fd);
        backoff = 0;
      } catch (IOException e) {
        if (closed) {
          return;
        }
        // Most often out of descriptors (EMFILE): the connection stays in the backlog, so back off.
        backoff = Math.min(MAX_BACKOFF_MILLIS, Math.max(5, backoff * 2));
        log.warn("accepting on {} failed, backing off {} ms: {}", local, backoff, e.getMessage());
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          return;
        }
        continue;
      }
      int number = ShmConnection.nextNumber();
      try {
        Thread t = new Thread(() -> serve(c, number), "dafs-shm-rx-" + number);
        t.setDaemon(true);
        t.start();
      } catch (RuntimeException | Error e) {
        nat.closeQuietly(c);
        log.warn("no thread for a connection on {}: {}", local, e.toString());
      }
    }
  }

  /** The handshake, then the receive loop, on the connection's own thread. */
  private void serve(int socket, int number) {
    long deadline = System.nanoTime() + Handshake.HELLO_TIMEOUT_NANOS;
    ControlChannel ch = new ControlChannel(nat, socket);
    MappedByteBuffer[] rings = new MappedByteBuffer[1];
    int ringFd = -1;
    int[] doorbells = null;
    ShmConnection c = null;
    try {
      byte[] credential = Handshake.readHello(nat, socket, deadline);
      if (!admit(credential)) {
        log.debug("shm connection {} on {}: the credential was refused", number, local);
        Handshake.answer(nat, ch, ControlRecord.answer(ControlRecord.REFUSED), deadline);
        return;
      }
      ringFd = Handshake.createRings(nat, domain.memoryFileName("ring"), rings);
      doorbells = nat.socketpair();
      Handshake.answer(nat, ch, ControlRecord.answer(ControlRecord.ACCEPT), deadline, ringFd, doorbells[1]);
      c = new ShmConnection(nat, number, socket, ch, doorbells[0], rings[0], true, domain, handler, limits, local);
    } catch (IOException | RuntimeException e) {
      log.debug("shm connection {} on {} failed before it opened: {}", number, local, e.toString());
    } finally {
      nat.closeQuietly(ringFd); // the peer has it, or it goes
      if (doorbells != null) {
        nat.closeQuietly(doorbells[1]);
      }
      if (c == null) {
        if (rings[0] != null) {
          Mappings.unmap(rings[0]);
        }
        if (doorbells != null) {
          nat.closeQuietly(doorbells[0]);
        }
        ch.closeStrayDescriptors();
        nat.closeQuietly(socket);
      }
    }
    if (c == null) {
      return;
    }
    try {
      c.open(false);
    } catch (RuntimeException e) {
      c.close(e);
      return;
    }
    c.receive();
  }

  private boolean admit(byte[] credential) {
    try {
      return handler.admit(credential);
    } catch (RuntimeException e) {
      log.warn("admitting a connection on {} failed, refusing it", local, e);
      return false;
    }
  }

  @Override
  public UnixDomainSocketAddress localAddress() {
    return local;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    nat.shutdown(fd); // wakes accept()
    try {
      acceptor.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    nat.closeQuietly(fd);
    removeFiles(true);
  }

  private void removeFiles(boolean socketFile) {
    try {
      if (socketFile) {
        Files.deleteIfExists(local.getPath().toAbsolutePath());
      }
      if (createdDirectory != null) {
        Files.deleteIfExists(createdDirectory);
      }
    } catch (IOException e) {
      log.debug("removing {}: {}", local, e.toString());
    }
  }
}
