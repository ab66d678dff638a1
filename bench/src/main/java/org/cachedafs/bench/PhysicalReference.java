package org.cachedafs.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;

/**
 * What this machine can do at best, measured in the same run as the workloads, so results are ratios
 * against it rather than absolute numbers that drift from run to run: memory-copy bandwidth, the raw
 * loopback throughput of the transport (one-sided writes from one registered region into another,
 * the path a direct read takes), and a small-message round trip over the transport.
 *
 * @param memcpySmallGBps copying 1 MiB buffers (hot in the CPU caches), GB/s
 * @param memcpyLargeGBps copying 64 MiB buffers (bound by DRAM), GB/s
 * @param transportGBps one-sided writes of 1 MiB over loopback tcp, GB/s
 * @param roundTripMicros median 64-byte message round trip over loopback tcp, µs
 */
record PhysicalReference(double memcpySmallGBps, double memcpyLargeGBps, double transportGBps, double roundTripMicros) {

  static PhysicalReference measure(long transportBytes, int roundTrips) throws IOException, InterruptedException {
    return new PhysicalReference(memcpy(1 << 20, 2L << 30), memcpy(64 << 20, 4L << 30), transport(transportBytes), roundTrip(roundTrips));
  }

  /** GB/s copying {@code size}-byte direct buffers until {@code total} bytes moved. */
  static double memcpy(int size, long total) {
    ByteBuffer src = ByteBuffer.allocateDirect(size);
    ByteBuffer dst = ByteBuffer.allocateDirect(size);
    for (int i = 0; i < 3; i++) {
      dst.clear().put(src.clear()); // warm up
    }
    long t0 = System.nanoTime();
    long moved = 0;
    while (moved < total) {
      dst.clear().put(src.clear());
      moved += size;
    }
    return moved / (double) (System.nanoTime() - t0);
  }

  /** GB/s of one-sided 1 MiB writes from a registered region into a peer's, over loopback tcp. */
  static double transport(long total) throws IOException, InterruptedException {
    Transport tcp = Transports.forScheme("tcp");
    try (MemoryDomain serverDomain = tcp.openDomain(); MemoryDomain clientDomain = tcp.openDomain()) {
      Region target = serverDomain.allocate(16 << 20, Access.REMOTE_WRITE);
      Region source = clientDomain.allocate(1 << 20, Access.LOCAL);
      BlockingQueue<Boolean> done = new LinkedBlockingQueue<>(); // offer never drops a signal, unlike a SynchronousQueue
      ConnectionHandler server = new ConnectionHandler() {
        @Override
        public void onMessage(Connection c, Received m) {
          m.release();
          done.offer(Boolean.TRUE); // the marker that follows the data: everything before it is placed
        }

        @Override
        public void onClosed(Connection c, Throwable cause) {}
      };
      try (Listener l = tcp.listen(new InetSocketAddress("127.0.0.1", 0), serverDomain, server);
          Connection c = tcp.connect(l.localAddress(), clientDomain, new Quiet())) {
        long t0 = 0;
        long moved = 0;
        int chunk = 1 << 20;
        for (int round = 0; round < 2; round++) { // a warm-up round, then the measured one
          t0 = System.nanoTime();
          moved = 0;
          long goal = round == 0 ? Math.min(total, 64L << 20) : total;
          while (moved < goal) {
            c.write(source, 0, target.remote(), moved % (16 << 20), chunk).join();
            moved += chunk;
          }
          c.send(ByteBuffer.wrap(new byte[1]));
          if (done.poll(60, TimeUnit.SECONDS) == null) {
            throw new IOException("the peer never saw the end of the transfer");
          }
        }
        return moved / (double) (System.nanoTime() - t0);
      }
    }
  }

  /** Median round trip of a 64-byte message and its echo over loopback tcp, in µs. */
  static double roundTrip(int count) throws IOException, InterruptedException {
    Transport tcp = Transports.forScheme("tcp");
    try (MemoryDomain a = tcp.openDomain(); MemoryDomain b = tcp.openDomain()) {
      ConnectionHandler echo = new ConnectionHandler() {
        @Override
        public void onMessage(Connection c, Received r) {
          ByteBuffer m = r.detach();
          try {
            // Echoed on the receive thread: the raw transport's round trip, with no hand-off. (The server
            // never does this, lest a full socket stall its reads; 64 bytes cannot fill one.)
            c.send(m);
          } catch (IOException ignored) {
            // The client went away.
          }
        }

        @Override
        public void onClosed(Connection c, Throwable cause) {}
      };
      BlockingQueue<ByteBuffer> replies = new LinkedBlockingQueue<>();
      try (Listener l = tcp.listen(new InetSocketAddress("127.0.0.1", 0), a, echo);
          Connection c = tcp.connect(l.localAddress(), b, new ConnectionHandler() {
            @Override
            public void onMessage(Connection conn, Received m) {
              replies.offer(m.detach());
            }

            @Override
            public void onClosed(Connection conn, Throwable cause) {}
          })) {
        ByteBuffer msg = ByteBuffer.allocate(64);
        long[] nanos = new long[count];
        for (int i = -count / 10; i < count; i++) {
          long t0 = System.nanoTime();
          c.send(msg);
          if (replies.poll(10, TimeUnit.SECONDS) == null) {
            throw new IOException("no echo within 10 s");
          }
          if (i >= 0) {
            nanos[i] = System.nanoTime() - t0;
          }
        }
        java.util.Arrays.sort(nanos);
        return nanos[count / 2] / 1e3;
      }
    }
  }

  private static final class Quiet implements ConnectionHandler {
    @Override
    public void onMessage(Connection c, Received m) {
      m.release();
    }

    @Override
    public void onClosed(Connection c, Throwable cause) {}
  }
}
