package org.cachedafs.transport.testkit;

import org.cachedafs.transport.Access;
import org.cachedafs.transport.Capabilities;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
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
  public static Region random(MemoryDomain domain, int n, long seed, Access access) {
    byte[] a = new byte[n];
    new Random(seed).nextBytes(a);
    Region r = domain.allocate(n, access);
    r.buffer().put(a);
    return r;
  }

  /** The bytes of {@code r} from {@code offset}, {@code length} of them. */
  public static byte[] contents(Region r, int offset, int length) {
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
  void eachSideCountsTheBytesThatArrivedFromItsPeer() throws Exception {
    long before = server.bytesReceived();
    client.send(ByteBuffer.wrap(new byte[3000]));
    assertEquals(3000, atServer.poll(10, TimeUnit.SECONDS).length);
    assertTrue(server.bytesReceived() - before >= 3000, "the message's bytes: " + (server.bytesReceived() - before));
    long clientBefore = client.bytesReceived();
    server.send(ByteBuffer.wrap(new byte[500]));
    atClient.poll(10, TimeUnit.SECONDS);
    assertTrue(client.bytesReceived() - clientBefore >= 500);
    long quiet = server.bytesReceived();
    Thread.sleep(50);
    assertEquals(quiet, server.bytesReceived(), "nothing sent, nothing counted");
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
    try {
      client.send(ByteBuffer.wrap(new byte[] {5}));
    } catch (IOException closed) {
      // The other outcome the contract allows (rdma: a key the peer deregistered is a remote access
      // error, which closes the queue pair).
      assertFalse(client.isOpen(), "a send fails only on a closed connection: " + closed);
    }
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

  /** A handler that queues what it receives, and nothing else. */
  protected static ConnectionHandler collecting(BlockingQueue<byte[]> into) {
    return new ConnectionHandler() {
      @Override
      public void onMessage(Connection c, Received r) {
        into.add(bytes(r.detach()));
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {}
    };
  }

  @Test
  void localAddressesAreFreshAndEachListenerGetsItsOwnConnections() throws Exception {
    BlockingQueue<byte[]> atA = new LinkedBlockingQueue<>();
    BlockingQueue<byte[]> atB = new LinkedBlockingQueue<>();
    try (Listener a = transport().listen(transport().localAddress(), serverDomain, collecting(atA));
        Listener b = transport().listen(transport().localAddress(), serverDomain, collecting(atB))) {
      assertNotEquals(a.localAddress(), b.localAddress(), "two listeners on this host's fresh addresses at once");
      Connection toA = transport().connect(a.localAddress(), clientDomain, collecting(new LinkedBlockingQueue<>()));
      Connection toB = transport().connect(b.localAddress(), clientDomain, collecting(new LinkedBlockingQueue<>()));
      try {
        assertTrue(toA.peerIsLocal() && toB.peerIsLocal());
        toA.send(ByteBuffer.wrap(new byte[] {'a'}));
        toB.send(ByteBuffer.wrap(new byte[] {'b'}));
        assertArrayEquals(new byte[] {'a'}, atA.poll(10, TimeUnit.SECONDS));
        assertArrayEquals(new byte[] {'b'}, atB.poll(10, TimeUnit.SECONDS));
        assertTrue(atA.isEmpty() && atB.isEmpty(), "nothing went to the other listener");
      } finally {
        toA.close();
        toB.close();
      }
    }
  }

  @Test
  void theStatedCapabilitiesHold() throws Exception {
    Capabilities caps = transport().capabilities();
    assertTrue(transport().descriptorsPerConnection() >= 1);
    ByteBuffer foreign = ByteBuffer.allocateDirect(4096);
    if (caps.registersForeignMemory()) {
      Region r = serverDomain.register(foreign, Access.REMOTE_WRITE);
      Region source = random(clientDomain, 4096, 21, Access.LOCAL);
      client.write(source, 0, r.remote(), 0, 4096).get(10, TimeUnit.SECONDS);
      client.send(ByteBuffer.wrap(new byte[] {1}));
      atServer.poll(10, TimeUnit.SECONDS);
      assertArrayEquals(contents(source, 0, 4096), bytes(foreign), "a one-sided write lands in foreign memory registered for it");
    } else {
      assertThrows(IllegalArgumentException.class, () -> serverDomain.register(foreign, Access.REMOTE_WRITE),
          "a provider that cannot expose foreign memory refuses it");
    }
    // Every provider registers views of memory it allocated.
    Region slab = serverDomain.allocate(8192, Access.REMOTE_READ_WRITE);
    Region view = serverDomain.register(slab.buffer().position(4096), Access.REMOTE_WRITE);
    assertEquals(4096, view.length());
    Region source = random(clientDomain, 4096, 22, Access.LOCAL);
    long placedBefore = serverDomain.stats().placedBytes();
    client.write(source, 0, view.remote(), 0, 4096).get(10, TimeUnit.SECONDS);
    client.send(ByteBuffer.wrap(new byte[] {2}));
    atServer.poll(10, TimeUnit.SECONDS);
    assertArrayEquals(contents(source, 0, 4096), contents(slab, 4096, 4096), "a view names the memory it views");
    assertEquals(caps.peerSeesOneSided() ? 4096 : 0, serverDomain.stats().placedBytes() - placedBefore);
  }

  @Test
  void manyThreadsSendAndTransferAtOnce() throws Exception {
    int threads = 4;
    int rounds = 150;
    int chunk = 8192;
    Region shared = serverDomain.allocate(threads * chunk * 4, Access.REMOTE_READ_WRITE);
    List<CompletableFuture<Void>> work = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      work.add(CompletableFuture.runAsync(() -> {
        Region local = clientDomain.allocate(2 * chunk, Access.LOCAL);
        try {
          for (int seq = 0; seq < rounds; seq++) {
            client.send(ByteBuffer.wrap(tagged(id, seq)));
            byte[] data = new byte[chunk];
            new Random(id * 1_000_003L + seq).nextBytes(data);
            local.buffer().put(data);
            long at = (long) (id * 4 + seq % 4) * chunk;
            client.write(local, 0, shared.remote(), at, chunk).get(10, TimeUnit.SECONDS);
            client.read(local, chunk, shared.remote(), at, chunk).get(10, TimeUnit.SECONDS);
            assertArrayEquals(data, contents(local, chunk, chunk), "thread " + id + " read back what it wrote, round " + seq);
          }
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }, runner("client-" + t)));
    }
    for (int t = 0; t < 2; t++) {
      int id = 100 + t;
      work.add(CompletableFuture.runAsync(() -> {
        try {
          for (int seq = 0; seq < rounds; seq++) {
            server.send(ByteBuffer.wrap(tagged(id, seq)));
          }
        } catch (IOException e) {
          throw new AssertionError(e);
        }
      }, runner("server-" + t)));
    }
    CompletableFuture.allOf(work.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    checkTagged(atServer, threads * rounds, rounds);
    checkTagged(atClient, 2 * rounds, rounds);
  }

  private static java.util.concurrent.Executor runner(String name) {
    return r -> {
      Thread t = new Thread(r, "kit-" + name);
      t.setDaemon(true);
      t.start();
    };
  }

  /** A message naming its sender thread and sequence number, with a body derived from both. */
  private static byte[] tagged(int thread, int seq) {
    byte[] body = new byte[(seq * 97) % 3000];
    new Random(thread * 7919L + seq).nextBytes(body);
    return ByteBuffer.allocate(8 + body.length).putInt(thread).putInt(seq).put(body).array();
  }

  /** Takes {@code count} tagged messages: each whole, and each thread's in the order it sent them. */
  private static void checkTagged(BlockingQueue<byte[]> from, int count, int perThread) throws InterruptedException {
    Map<Integer, Integer> next = new HashMap<>();
    for (int i = 0; i < count; i++) {
      byte[] m = from.poll(30, TimeUnit.SECONDS);
      assertTrue(m != null, "message " + i + " of " + count + " arrived");
      ByteBuffer b = ByteBuffer.wrap(m);
      int thread = b.getInt();
      int seq = b.getInt();
      assertEquals(next.getOrDefault(thread, 0), seq, "thread " + thread + "'s messages arrive in order");
      next.put(thread, seq + 1);
      assertArrayEquals(tagged(thread, seq), m, "thread " + thread + " message " + seq + " arrives whole");
    }
    for (int seq : next.values()) {
      assertEquals(perThread, seq);
    }
  }

  @Test
  void theLargestMessageAndTransferPassAndOneByteMoreIsRefusedHere() throws Exception {
    Capabilities caps = transport().capabilities();
    byte[] largest = new byte[caps.maxMessage()];
    new Random(31).nextBytes(largest);
    client.send(ByteBuffer.wrap(largest));
    assertArrayEquals(largest, atServer.poll(30, TimeUnit.SECONDS), "a message of exactly maxMessage bytes");
    assertThrows(IllegalArgumentException.class, () -> client.send(ByteBuffer.allocate(caps.maxMessage() + 1)));
    int most = caps.maxOneSided();
    Region remote = serverDomain.allocate(most + 1, Access.REMOTE_READ_WRITE);
    Region local = random(clientDomain, most + 1, 32, Access.LOCAL);
    client.write(local, 0, remote.remote(), 0, most).get(30, TimeUnit.SECONDS);
    Region back = clientDomain.allocate(most + 1, Access.LOCAL);
    client.read(back, 0, remote.remote(), 0, most).get(30, TimeUnit.SECONDS);
    assertArrayEquals(contents(local, 0, most), contents(back, 0, most), "a one-sided transfer of maxOneSided bytes, both ways");
    ExecutionException tooBig = assertThrows(ExecutionException.class, () -> client.write(local, 0, remote.remote(), 0, most + 1).get(10, TimeUnit.SECONDS));
    assertTrue(tooBig.getCause() instanceof IllegalArgumentException, tooBig.toString());
    tooBig = assertThrows(ExecutionException.class, () -> client.read(back, 0, remote.remote(), 0, most + 1).get(10, TimeUnit.SECONDS));
    assertTrue(tooBig.getCause() instanceof IllegalArgumentException, tooBig.toString());
    assertTrue(client.isOpen(), "refused locally: the connection is fine");
    client.send(ByteBuffer.wrap(new byte[] {9}));
    assertArrayEquals(new byte[] {9}, atServer.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void thePeerClosingMidStreamEndsTheConnectionAndWhatFollowsFails() throws Exception {
    Region remote = random(serverDomain, 1 << 16, 41, Access.REMOTE_READ);
    Region local = clientDomain.allocate(1 << 16, Access.LOCAL);
    AtomicInteger sent = new AtomicInteger();
    CompletableFuture<Void> stream = CompletableFuture.runAsync(() -> {
      try {
        for (int i = 0; i < 400; i++) {
          server.send(ByteBuffer.wrap(new byte[16 * 1024]));
          sent.incrementAndGet();
        }
      } catch (IOException closedUnderIt) {
        // Expected: the stream ends with the connection.
      }
    }, runner("stream"));
    assertTrue(atClient.poll(10, TimeUnit.SECONDS) != null, "the stream started");
    List<CompletableFuture<Void>> reads = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      reads.add(client.read(local, 0, remote.remote(), 0, 1 << 16));
    }
    server.close();
    clientClosed.get(10, TimeUnit.SECONDS);
    stream.get(10, TimeUnit.SECONDS);
    for (CompletableFuture<Void> r : reads) {
      try {
        r.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertTrue(e.getCause() instanceof IOException, "a read cut off by the close fails with an IOException: " + e);
      } catch (TimeoutException e) {
        throw new AssertionError("a read pending at the close neither completed nor failed", e);
      }
    }
    assertFalse(client.isOpen());
    assertThrows(IOException.class, () -> client.send(ByteBuffer.wrap(new byte[] {1})), "a send after the close fails");
    ExecutionException e = assertThrows(ExecutionException.class, () -> client.read(local, 0, remote.remote(), 0, 8).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof IOException, e.toString());
  }

  @Test
  void aCredentialTheListenerRefusesFailsTheConnect() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    byte[] good = "good".getBytes(StandardCharsets.US_ASCII);
    ConnectionHandler gate = new ConnectionHandler() {
      @Override
      public boolean admit(byte[] credential) {
        asked.incrementAndGet();
        return Arrays.equals(good, credential);
      }

      @Override
      public void onMessage(Connection c, Received r) {
        r.release();
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {}
    };
    try (Listener gated = transport().listen(transport().localAddress(), serverDomain, gate)) {
      ConnectionHandler quiet = collecting(new LinkedBlockingQueue<>());
      Connection refused;
      try {
        refused = transport().connect(gated.localAddress(), clientDomain, quiet, ConnectionLimits.defaults(),
            "bad".getBytes(StandardCharsets.US_ASCII));
      } catch (IOException e) {
        assertTrue(asked.get() > 0, "refused by admit: " + e);
        assertTrue(e.getMessage().contains("refused"), "the failure says the credential was refused: " + e.getMessage());
        Connection admitted = transport().connect(gated.localAddress(), clientDomain, quiet, ConnectionLimits.defaults(), good);
        admitted.close();
        return;
      }
      refused.close();
      assertEquals(0, asked.get(), "a provider that asks admit keeps to its answer");
      Assumptions.abort(transport().scheme() + " shares nothing before the layer above authenticates, and does not ask admit");
    }
  }
}
