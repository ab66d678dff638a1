package org.cachedafs.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteAccessException;
import org.cachedafs.transport.RemoteRegion;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;
import org.cachedafs.transport.testkit.TransportTestKit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 17's bad-input acceptance on verbs: a peer that posts an RDMA READ or WRITE with a key it
 * was never given gets a remote access error, its connection is torn down on both sides, and the
 * server serves another peer as before. Runs in the SoftRoCE guest; skipped where the provider is
 * unavailable.
 */
class RdmaBadKeyTest {
  @BeforeAll
  static void device() {
    RdmaTransport t = new RdmaTransport();
    assumeTrue(t.isAvailable(), t.unavailableReason());
  }

  /** The descriptor of {@code real}'s memory with a key the server never gave out. */
  private static RemoteRegion forged(Region real) {
    ByteBuffer d = ByteBuffer.wrap(real.remote().toBytes()).order(ByteOrder.LITTLE_ENDIAN);
    int rkey = d.getInt(8);
    d.putInt(8, rkey ^ 0x5a5a00);
    return RemoteRegion.of(d.array());
  }

  @Test
  void aForgedKeyClosesThatConnectionAndTheServerServesOthers() throws Exception {
    Transport rdma = Transports.forScheme("rdma");
    BlockingQueue<byte[]> atServer = new LinkedBlockingQueue<>();
    BlockingQueue<Connection> serverClosed = new LinkedBlockingQueue<>();
    ConnectionHandler server = new ConnectionHandler() {
      @Override
      public void onMessage(Connection c, Received r) {
        byte[] a = new byte[r.buffer().remaining()];
        r.buffer().get(a);
        r.release();
        atServer.add(a);
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {
        serverClosed.add(c);
      }
    };
    try (MemoryDomain serverDomain = rdma.openDomain();
        MemoryDomain clientDomain = rdma.openDomain();
        Listener listener = rdma.listen(rdma.localAddress(), serverDomain, server)) {
      Region exposed = TransportTestKit.random(serverDomain, 4096, 7, Access.REMOTE_READ_WRITE);
      CompletableFuture<Throwable> badClosed = new CompletableFuture<>();
      Connection bad = rdma.connect(listener.localAddress(), clientDomain, new ConnectionHandler() {
        @Override
        public void onMessage(Connection c, Received r) {
          r.release();
        }

        @Override
        public void onClosed(Connection c, Throwable cause) {
          badClosed.complete(cause);
        }
      });
      Connection good = rdma.connect(listener.localAddress(), clientDomain, new ConnectionHandler() {
        @Override
        public void onMessage(Connection c, Received r) {
          r.release();
        }

        @Override
        public void onClosed(Connection c, Throwable cause) {}
      });
      try {
        Region local = clientDomain.allocate(4096, Access.LOCAL);
        ExecutionException e = assertThrows(ExecutionException.class,
            () -> bad.read(local, 0, forged(exposed), 0, 64).get(10, TimeUnit.SECONDS));
        assertInstanceOf(RemoteAccessException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("remote access error"), e.getCause().getMessage());
        assertInstanceOf(RemoteAccessException.class, badClosed.get(10, TimeUnit.SECONDS), "closed with the remote access error as its cause");
        assertFalse(bad.isOpen());
        assertTrue(serverClosed.poll(10, TimeUnit.SECONDS) != null, "the server's side of the bad connection closed too");

        // The other peer is served as before: messages, and one-sided transfers with the real key.
        good.send(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        assertArrayEquals(new byte[] {1, 2, 3}, atServer.poll(10, TimeUnit.SECONDS));
        good.read(local, 0, exposed.remote(), 0, 4096).get(10, TimeUnit.SECONDS);
        assertArrayEquals(TransportTestKit.contents(exposed, 0, 4096), TransportTestKit.contents(local, 0, 4096));

        // A forged key on a WRITE: the same, and the region is untouched.
        Region source = TransportTestKit.random(clientDomain, 64, 8, Access.LOCAL);
        byte[] before = TransportTestKit.contents(exposed, 0, 64);
        e = assertThrows(ExecutionException.class, () -> good.write(source, 0, forged(exposed), 0, 64).get(10, TimeUnit.SECONDS));
        assertInstanceOf(RemoteAccessException.class, e.getCause());
        assertFalse(good.isOpen());
        assertArrayEquals(before, TransportTestKit.contents(exposed, 0, 64), "nothing was written");
      } finally {
        bad.close();
        good.close();
      }
    }
  }
}
