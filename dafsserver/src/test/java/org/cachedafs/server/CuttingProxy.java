package org.cachedafs.server;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy between a client and a server that can cut the connection right after the
 * server has executed an operation: it swallows the reply to the armed opcode and closes both sides.
 * It understands just enough of the tcp transport's framing to find a reply's opcode. It can also
 * hold everything in both directions for a while ({@link #hold}), as a partition would, without
 * closing anything.
 */
final class CuttingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final InetSocketAddress upstream;
  private final AtomicInteger armedOpcode = new AtomicInteger(-1);
  private final AtomicInteger cuts = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicBoolean cutOnData = new java.util.concurrent.atomic.AtomicBoolean();
  /** Guarded by itself: whether nothing is forwarded now. */
  private final boolean[] held = new boolean[1];

  CuttingProxy(InetSocketAddress upstream) throws IOException {
    this.upstream = upstream;
    this.listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "cutting-proxy");
    t.setDaemon(true);
    t.start();
  }

  URI uri() {
    return URI.create("tcp://127.0.0.1:" + listener.getLocalPort());
  }

  /** The next reply with this opcode is dropped and the connection cut. */
  void cutAfterReplyTo(int opcode) {
    armedOpcode.set(opcode);
  }

  /** The next one-sided data frame from the server is dropped and the connection cut, mid-transfer. */
  void cutOnNextDataFrame() {
    cutOnData.set(true);
  }

  int cuts() {
    return cuts.get();
  }

  /** From now on nothing is forwarded either way, until {@link #release}: the peers hear silence. */
  void hold() {
    synchronized (held) {
      held[0] = true;
    }
  }

  void release() {
    synchronized (held) {
      held[0] = false;
      held.notifyAll();
    }
  }

  private void awaitReleased() throws IOException {
    synchronized (held) {
      while (held[0]) {
        try {
          held.wait();
        } catch (InterruptedException e) {
          throw new java.io.InterruptedIOException();
        }
      }
    }
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(upstream.getAddress(), upstream.getPort());
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        start(() -> pumpRequests(client, server));
        start(() -> pumpReplies(server, client));
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void start(Runnable r) {
    Thread t = new Thread(r, "cutting-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void pumpRequests(Socket from, Socket to) {
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      byte[] buffer = new byte[64 << 10];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        awaitReleased();
        out.write(buffer, 0, n);
      }
    } catch (IOException ignored) {
      // Either side went away: the other is closed below.
    } finally {
      closeBoth(from, to);
    }
  }

  private void pumpReplies(Socket server, Socket client) {
    try {
      DataInputStream in = new DataInputStream(server.getInputStream());
      OutputStream out = client.getOutputStream();
      byte[] header = new byte[40]; // the tcp transport's frame header
      while (true) {
        in.readFully(header);
        int length = ByteBuffer.wrap(header).getInt(0);
        byte[] payload = new byte[length];
        in.readFully(payload);
        int type = header[4];
        if (type == 2 && cutOnData.compareAndSet(true, false)) {
          cuts.incrementAndGet();
          closeBoth(server, client);
          return;
        }
        if (type == 1 && length >= 8) {
          int opcode = ByteBuffer.wrap(payload).getShort(6) & 0xFFFF;
          if (armedOpcode.compareAndSet(opcode, -1)) {
            cuts.incrementAndGet();
            closeBoth(server, client);
            return;
          }
        }
        awaitReleased();
        out.write(header);
        out.write(payload);
        out.flush();
      }
    } catch (IOException ignored) {
      // Closed.
    } finally {
      closeBoth(server, client);
    }
  }

  private static void closeBoth(Socket a, Socket b) {
    try {
      a.close();
    } catch (IOException ignored) {
      // Already closed.
    }
    try {
      b.close();
    } catch (IOException ignored) {
      // Already closed.
    }
  }

  @Override
  public void close() throws IOException {
    release();
    listener.close();
  }
}
