package org.cachedafs.transport.testkit;

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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    listener = transport().listen(transport().localAddress(), serverDomain, new ConnectionHandler() {
      @Override
      public void onOpen(Connection c) {
        server = c;
        accepted.complete(c);
      }

      @Override
      public void onMessage(Connection c, Received r) {
        ByteBuffer m = r.buffer();
        Region w = watched;
        if (w != null) {
          ByteBuffer b = w.buffer();
          byte[] snapshot = new byte[b.remaining()];
          b.get(snapshot);
          watchedAtMessage.add(snapshot);
        }
        atServer.add(bytes(m));
        r.release();
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {}
    });
    client = transport().connect(listener.localAddress(), clientDomain, new ConnectionHandler() {
      @Override
      public void onMessage(Connection c, Received r) {
        atClient.add(bytes(r.detach()));
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

  /** A region of {@code domain} holding {@code n} random bytes of {@code seed}. */
  protected static Region random(MemoryDomain domain, int n, long seed, Access access) {
    byte[] a = new byte[n];
    new Random(seed).nextBytes(a);
    Region r = domain.allocate(n, access);
    r.buffer().put(a);
    return r;
  }

  /** The bytes of {@code r} from {@code offset}, {@code length} of them. */
  protected static byte[] contents(Region r, int offset, int length) {
    byte[] a = new byte[length];
    r.buffer().position(offset).get(a);
    return a;
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
    Region remote = serverDomain.allocate(1 << 20, Access.REMOTE_WRITE);
    watched = remote;
    Region local = random(clientDomain, 300_000, 1, Access.LOCAL);
    long placedBefore = serverDomain.stats().placedBytes();
    client.write(local, 1000, remote.remote(), 5000, 250_000).get(10, TimeUnit.SECONDS);
    client.send(ByteBuffer.wrap(new byte[] {1}));
    atServer.poll(10, TimeUnit.SECONDS);
    byte[] seen = watchedAtMessage.poll(10, TimeUnit.SECONDS);
    byte[] expected = contents(local, 1000, 250_000);
    byte[] landed = new byte[250_000];
    System.arraycopy(seen, 5000, landed, 0, landed.length);
    assertArrayEquals(expected, landed, "the data was in the region's own memory when the next message arrived");
    if (transport().capabilities().peerSeesOneSided()) {
      assertEquals(250_000, serverDomain.stats().placedBytes() - placedBefore);
    } else {
      assertEquals(placedBefore, serverDomain.stats().placedBytes(), "the target side never learns of a one-sided write");
    }
    assertEquals(0, serverDomain.stats().stagedBytes());
  }

  @Test
  void oneSidedWriteFromAFileLandsInThePeersRegionBeforeALaterMessage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    Region remote = serverDomain.allocate(4 << 20, Access.REMOTE_WRITE);
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
    Region remote = random(serverDomain, 1 << 20, 2, Access.REMOTE_READ);
    Region local = clientDomain.allocate(1 << 20, Access.LOCAL);
    client.read(local, 17, remote.remote(), 33, 500_000).get(10, TimeUnit.SECONDS);
    assertArrayEquals(contents(remote, 33, 500_000), contents(local, 17, 500_000));
    assertEquals(500_000, clientDomain.stats().placedBytes());
  }

  @Test
  void aReadTheRegionDoesNotAllowIsARemoteAccessErrorThatClosesTheConnection() throws Exception {
    Region writeOnly = serverDomain.allocate(64, Access.REMOTE_WRITE);
    Region local = clientDomain.allocate(64, Access.LOCAL);
    ExecutionException e = assertThrows(ExecutionException.class, () -> client.read(local, 0, writeOnly.remote(), 0, 8).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof RemoteAccessException, e.toString());
    clientClosed.get(10, TimeUnit.SECONDS);
    assertFalse(client.isOpen(), "a remote access error is fatal to the connection, as on a queue pair");
  }

  @Test
  void aReadOutsideTheRegionIsARemoteAccessError() throws Exception {
    Region readable = serverDomain.allocate(64, Access.REMOTE_READ);
    Region local = clientDomain.allocate(64, Access.LOCAL);
    ExecutionException e = assertThrows(ExecutionException.class, () -> client.read(local, 0, readable.remote(), 60, 8).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof RemoteAccessException, e.toString());
    clientClosed.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aReadOfAClosedRegionIsARemoteAccessError() throws Exception {
    Region gone = serverDomain.allocate(64, Access.REMOTE_READ);
    RemoteRegion name = gone.remote();
    gone.close();
    Region local = clientDomain.allocate(64, Access.LOCAL);
    ExecutionException e = assertThrows(ExecutionException.class, () -> client.read(local, 0, name, 0, 8).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof RemoteAccessException, e.toString());
    clientClosed.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aWriteToARegionThePeerDoesNotExposeBreaksTheConnection() throws Exception {
    Region local = serverDomain.allocate(64, Access.LOCAL);
    Region source = random(clientDomain, 64, 3, Access.LOCAL);
    client.write(source, 0, local.remote(), 0, 64);
    // As a remote access error breaks a queue pair: the peer closes, and the region is untouched.
    clientClosed.get(10, TimeUnit.SECONDS);
    assertFalse(client.isOpen());
    ByteBuffer b = local.buffer();
    while (b.hasRemaining()) {
      assertEquals(0, b.get());
    }
  }

  @Test
  void aWriteOutsideThePeersRegionBreaksTheConnection() throws Exception {
    Region small = serverDomain.allocate(64, Access.REMOTE_WRITE);
    Region source = random(clientDomain, 64, 5, Access.LOCAL);
    client.write(source, 0, small.remote(), 60, 8);
    clientClosed.get(10, TimeUnit.SECONDS);
    assertFalse(client.isOpen());
    assertArrayEquals(new byte[64], contents(small, 0, 64), "nothing was written");
  }

  @Test
  void aWriteIntoARegionClosedMeanwhileIsDroppedAndTheConnectionLives() throws Exception {
    Region closing = serverDomain.allocate(64, Access.REMOTE_WRITE);
    RemoteRegion name = closing.remote();
    closing.close();
    // A region allocated after the close may reuse the memory: the late write must not land in it.
    Region reused = serverDomain.allocate(64, Access.REMOTE_WRITE);
    Region source = random(clientDomain, 64, 4, Access.LOCAL);
    try {
      client.write(source, 0, name, 0, 64).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException dropped) {
      // Refusing it locally is allowed too.
    }
    client.send(ByteBuffer.wrap(new byte[] {5}));
    if (client.isOpen()) {
      assertArrayEquals(new byte[] {5}, atServer.poll(10, TimeUnit.SECONDS));
    }
    assertArrayEquals(new byte[64], contents(reused, 0, 64), "nothing landed in memory reused after the close");
    if (transport().capabilities().peerSeesOneSided() && client.isOpen()) {
      assertEquals(64, serverDomain.stats().discardedBytes());
    }
  }

  @Test
  void localMisuseIsRefusedBeforeAnythingIsSent() throws Exception {
    Region mine = clientDomain.allocate(64, Access.LOCAL);
    Region theirs = serverDomain.allocate(64, Access.REMOTE_READ_WRITE);
    assertThrows(ExecutionException.class, () -> client.write(mine, 60, theirs.remote(), 0, 8).get());
    assertThrows(ExecutionException.class, () -> client.write(theirs, 0, theirs.remote(), 0, 8).get(), "a region of another domain");
    mine.close();
    assertThrows(ExecutionException.class, () -> client.write(mine, 0, theirs.remote(), 0, 8).get(), "a closed region");
    assertThrows(IllegalArgumentException.class, () -> clientDomain.register(ByteBuffer.allocate(8), Access.LOCAL), "heap memory cannot be registered");
    assertTrue(client.isOpen());
  }

  @Test
  void pendingReadsFailWhenTheConnectionCloses() throws Exception {
    Region local = clientDomain.allocate(64, Access.LOCAL);
    RemoteRegion theirs = serverDomain.allocate(64, Access.REMOTE_READ).remote();
    client.close();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.read(local, 0, theirs, 0, 8).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof java.io.IOException, e.toString());
  }

  @Test
  void registrationIsCounted() {
    long before = clientDomain.stats().registrations();
    for (int i = 0; i < 5; i++) {
      clientDomain.allocate(16, Access.LOCAL).close();
    }
    assertEquals(before + 5, clientDomain.stats().registrations());
  }
}
