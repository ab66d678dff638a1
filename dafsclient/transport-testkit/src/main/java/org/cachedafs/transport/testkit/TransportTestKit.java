package org.cachedafs.transport.testkit;

import org.cachedafs.transport.*;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every transport provider keeps, run once for each provider (as Netty runs one suite
 * against every transport). A subclass names the provider.
 */
public abstract class TransportTestKit {
  protected abstract Transport transport();

  protected MemoryDomain serverDomain;
  protected MemoryDomain clientDomain;
  protected Listener listener;
  protected Connection client;
  protected volatile Connection server;
  protected final BlockingQueue<byte[]> atServer = new LinkedBlockingQueue<>();
  protected final BlockingQueue<byte[]> atClient = new LinkedBlockingQueue<>();
  protected final CompletableFuture<Throwable> clientClosed = new CompletableFuture<>();
  /** What the server side saw in a region when a message arrived, to check ordering. */
  protected volatile Region watched;
  protected final BlockingQueue<byte[]> watchedAtMessage = new LinkedBlockingQueue<>();

  @BeforeEach
  void connect() throws Exception {
    serverDomain = transport().openDomain();
    clientDomain = transport().openDomain();
    CompletableFuture<Connection> accepted = new CompletableFuture<>();
    listener = transport().listen(new InetSocketAddress("127.0.0.1", 0), serverDomain, new ConnectionHandler() {
      @Override
      public void onOpen(Connection c) {
        server = c;
        accepted.complete(c);
      }

      @Override
      public void onMessage(Connection c, ByteBuffer m) {
        Region w = watched;
        if (w != null) {
          ByteBuffer b = w.buffer();
          byte[] snapshot = new byte[b.remaining()];
          b.get(snapshot);
          watchedAtMessage.add(snapshot);
        }
        atServer.add(bytes(m));
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {}
    });
    client = transport().connect(listener.localAddress(), clientDomain, new ConnectionHandler() {
      @Override
      public void onMessage(Connection c, ByteBuffer m) {
        atClient.add(bytes(m));
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {
        clientClosed.complete(cause);
      }
    });
    accepted.get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void close() {
    client.close();
    if (server != null) {
      server.close();
    }
    listener.close();
    clientDomain.close();
    serverDomain.close();
  }

  static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a;
  }

  static ByteBuffer random(int n, long seed) {
    byte[] a = new byte[n];
    new Random(seed).nextBytes(a);
    ByteBuffer d = ByteBuffer.allocateDirect(n);
    d.put(a).flip();
    return d;
  }

  @Test
  void messagesArriveWholeAndInOrder() throws Exception {
    List<byte[]> sent = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      byte[] m = new byte[i * 37 % 5000];
      new Random(i).nextBytes(m);
      sent.add(m);
      client.send(ByteBuffer.wrap(m));
    }
    for (byte[] m : sent) {
      assertArrayEquals(m, atServer.poll(10, TimeUnit.SECONDS));
    }
    server.send(ByteBuffer.wrap(new byte[] {42}));
    assertArrayEquals(new byte[] {42}, atClient.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void oneSidedWriteLandsInThePeersRegionBeforeALaterMessage() throws Exception {
    ByteBuffer target = ByteBuffer.allocateDirect(1 << 20);
    Region remote = serverDomain.register(target, Access.REMOTE_WRITE);
    watched = remote;
    ByteBuffer data = random(300_000, 1);
    Region local = clientDomain.register(data, Access.LOCAL);
    long placedBefore = serverDomain.stats().placedBytes();
    client.write(local, 1000, remote.remote(), 5000, 250_000).get(10, TimeUnit.SECONDS);
    client.send(ByteBuffer.wrap(new byte[] {1}));
    atServer.poll(10, TimeUnit.SECONDS);
    byte[] seen = watchedAtMessage.poll(10, TimeUnit.SECONDS);
    byte[] expected = new byte[250_000];
    data.duplicate().position(1000).get(expected);
    byte[] landed = new byte[250_000];
    System.arraycopy(seen, 5000, landed, 0, landed.length);
    assertArrayEquals(expected, landed, "the data was in the region's own memory when the next message arrived");
    assertEquals(250_000, serverDomain.stats().placedBytes() - placedBefore);
    assertEquals(0, serverDomain.stats().stagedBytes());
  }

  @Test
  void oneSidedWriteFromAFileLandsInThePeersRegionBeforeALaterMessage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    ByteBuffer target = ByteBuffer.allocateDirect(4 << 20);
    Region remote = serverDomain.register(target, Access.REMOTE_WRITE);
    watched = remote;
    byte[] content = new byte[3 << 20];
    new Random(11).nextBytes(content);
    java.nio.file.Path file = java.nio.file.Files.write(dir.resolve("data"), content);
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ)) {
      // Larger than a socket buffer, so most of it goes out after the call returned, from the queue.
      CompletableFuture<Void> big = client.writeFromFile(ch, 12_345, 2_500_000, remote.remote(), 100);
      // Past the end of the file: what is missing arrives as zeros, and the frame stays whole.
      CompletableFuture<Void> pastEnd = client.writeFromFile(ch, content.length - 1000, 5000, remote.remote(), 3_000_000);
      big.get(10, TimeUnit.SECONDS);
      pastEnd.get(10, TimeUnit.SECONDS);
    }
    client.send(ByteBuffer.wrap(new byte[] {1}));
    atServer.poll(10, TimeUnit.SECONDS);
    byte[] seen = watchedAtMessage.poll(10, TimeUnit.SECONDS);
    assertArrayEquals(java.util.Arrays.copyOfRange(content, 12_345, 12_345 + 2_500_000), java.util.Arrays.copyOfRange(seen, 100, 2_500_100),
        "the file's bytes were in the region when the next message arrived");
    byte[] tail = new byte[5000];
    System.arraycopy(content, content.length - 1000, tail, 0, 1000);
    assertArrayEquals(tail, java.util.Arrays.copyOfRange(seen, 3_000_000, 3_005_000), "the last 1000 bytes, then zeros");
  }

  @Test
  void closeAfterSendingDeliversWhatWasSentFirst() throws Exception {
    List<byte[]> sent = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      byte[] m = new byte[1 << 20]; // more than a socket buffer: most of it is still queued at the close
      new Random(100 + i).nextBytes(m);
      sent.add(m);
      server.send(ByteBuffer.wrap(m));
    }
    server.closeAfterSending();
    for (byte[] m : sent) {
      assertArrayEquals(m, atClient.poll(10, TimeUnit.SECONDS), "every message sent before the close arrives");
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (client.isOpen() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    org.junit.jupiter.api.Assertions.assertFalse(client.isOpen(), "and then the connection closes");
  }

  @Test
  void oneSidedReadFetchesFromThePeersRegion() throws Exception {
    ByteBuffer source = random(1 << 20, 2);
    Region remote = serverDomain.register(source, Access.REMOTE_READ);
    Region local = clientDomain.register(ByteBuffer.allocateDirect(1 << 20), Access.LOCAL);
    client.read(local, 17, remote.remote(), 33, 500_000).get(10, TimeUnit.SECONDS);
    byte[] want = new byte[500_000];
    source.duplicate().position(33).get(want);
    byte[] got = new byte[500_000];
    local.buffer().position(17).get(got);
    assertArrayEquals(want, got);
    assertEquals(500_000, clientDomain.stats().placedBytes());
  }

  @Test
  void aReadTheRegionDoesNotAllowFailsWithARemoteAccessError() throws Exception {
    Region writeOnly = serverDomain.register(ByteBuffer.allocateDirect(64), Access.REMOTE_WRITE);
    Region local = clientDomain.register(ByteBuffer.allocateDirect(64), Access.LOCAL);
    ExecutionException e = assertThrows(ExecutionException.class, () -> client.read(local, 0, writeOnly.remote(), 0, 8).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof RemoteAccessException, e.toString());
    Region gone = serverDomain.register(ByteBuffer.allocateDirect(64), Access.REMOTE_READ);
    RemoteRegion name = gone.remote();
    gone.close();
    e = assertThrows(ExecutionException.class, () -> client.read(local, 0, name, 0, 8).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof RemoteAccessException, e.toString());
    assertTrue(client.isOpen(), "a refused read leaves the connection usable");
    client.send(ByteBuffer.wrap(new byte[] {7}));
    assertArrayEquals(new byte[] {7}, atServer.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void aWriteToARegionThePeerDoesNotExposeBreaksTheConnection() throws Exception {
    Region local = serverDomain.register(ByteBuffer.allocateDirect(64), Access.LOCAL);
    Region source = clientDomain.register(random(64, 3), Access.LOCAL);
    client.write(source, 0, new RemoteRegion(local.tag(), 64), 0, 64);
    // As a remote access error breaks a queue pair: the peer closes, and the region is untouched.
    clientClosed.get(10, TimeUnit.SECONDS);
    assertFalse(client.isOpen());
    ByteBuffer b = local.buffer();
    while (b.hasRemaining()) {
      assertEquals(0, b.get());
    }
  }

  @Test
  void aWriteIntoARegionClosedMeanwhileIsDroppedAndTheConnectionLives() throws Exception {
    Region closing = serverDomain.register(ByteBuffer.allocateDirect(64), Access.REMOTE_WRITE);
    RemoteRegion name = closing.remote();
    closing.close();
    Region source = clientDomain.register(random(64, 4), Access.LOCAL);
    client.write(source, 0, name, 0, 64).get(10, TimeUnit.SECONDS);
    client.send(ByteBuffer.wrap(new byte[] {5}));
    assertArrayEquals(new byte[] {5}, atServer.poll(10, TimeUnit.SECONDS));
    assertTrue(client.isOpen());
    assertEquals(64, serverDomain.stats().discardedBytes());
  }

  @Test
  void localMisuseIsRefusedBeforeAnythingIsSent() throws Exception {
    Region mine = clientDomain.register(ByteBuffer.allocateDirect(64), Access.LOCAL);
    Region theirs = serverDomain.register(ByteBuffer.allocateDirect(64), Access.REMOTE_READ_WRITE);
    assertThrows(ExecutionException.class, () -> client.write(mine, 60, theirs.remote(), 0, 8).get());
    assertThrows(ExecutionException.class, () -> client.write(mine, 0, theirs.remote(), 60, 8).get());
    assertThrows(ExecutionException.class, () -> client.write(theirs, 0, theirs.remote(), 0, 8).get(), "a region of another domain");
    mine.close();
    assertThrows(ExecutionException.class, () -> client.write(mine, 0, theirs.remote(), 0, 8).get(), "a closed region");
    assertThrows(IllegalArgumentException.class, () -> clientDomain.register(ByteBuffer.allocate(8), Access.LOCAL), "heap memory cannot be registered");
    assertTrue(client.isOpen());
  }

  @Test
  void pendingReadsFailWhenTheConnectionCloses() throws Exception {
    Region local = clientDomain.register(ByteBuffer.allocateDirect(64), Access.LOCAL);
    client.close();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.read(local, 0, new RemoteRegion(1, 64), 0, 8).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof java.io.IOException, e.toString());
  }

  @Test
  void registrationIsCounted() {
    long before = clientDomain.stats().registrations();
    for (int i = 0; i < 5; i++) {
      clientDomain.register(ByteBuffer.allocateDirect(16), Access.LOCAL).close();
    }
    assertEquals(before + 5, clientDomain.stats().registrations());
  }
}
