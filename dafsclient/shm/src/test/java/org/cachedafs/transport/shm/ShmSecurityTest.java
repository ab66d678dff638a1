package org.cachedafs.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteAccessException;
import org.cachedafs.transport.testkit.TransportTestKit;
import org.junit.jupiter.api.Test;

/** What a peer can and cannot reach, checked against what the kernel says this process holds. */
class ShmSecurityTest {
  private static final byte[] GOOD = "good".getBytes(StandardCharsets.US_ASCII);

  private static Region random(ShmDomain d, int n, long seed, Access access) {
    return TransportTestKit.random(d, n, seed, access);
  }

  private static byte[] contents(Region r) {
    return TransportTestKit.contents(r, 0, r.length());
  }

  @Test
  void aRefusedClientIsGivenNoDescriptorAndNothingIsMapped() throws Exception {
    try (ShmPair pair = new ShmPair()) {
      pair.requiredCredential = GOOD;
      Region exposed = pair.serverDomain.allocate(1 << 16, Access.REMOTE_READ_WRITE); // what admission guards
      Set<String> fds = Procfs.memfdDescriptors();
      Set<String> maps = new HashSet<>(Procfs.memfdMappings());
      IOException e = assertThrows(IOException.class, () -> pair.connect("bad".getBytes(StandardCharsets.US_ASCII)));
      assertTrue(e.getMessage().contains("refused the credential"), e.getMessage());
      Set<String> newFds = new HashSet<>(Procfs.memfdDescriptors());
      newFds.removeAll(fds);
      Set<String> newMaps = new HashSet<>(Procfs.memfdMappings());
      newMaps.removeAll(maps);
      assertEquals(Set.of(), newFds, "no memory file came to the refused client (nor was one made for it)");
      assertEquals(Set.of(), newMaps, "and nothing new is mapped");
      try (ShmPair.Client admitted = pair.connect(GOOD)) {
        assertNotNull(admitted.server, "the right credential is admitted");
        Region local = admitted.domain.allocate(16, Access.LOCAL);
        admitted.connection.read(local, 0, exposed.remote(), 0, 16).get(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aRegionExposedToOneConnectionCannotBeReachedThroughAnother() throws Exception {
    try (ShmPair pair = new ShmPair(); ShmPair.Client a = pair.connect(); ShmPair.Client b = pair.connect()) {
      Region secret = random(a.domain, 4096, 1, Access.REMOTE_READ_WRITE);
      Region local = pair.serverDomain.allocate(4096, Access.LOCAL);
      a.server.read(local, 0, secret.remote(), 0, 4096).get(10, TimeUnit.SECONDS);
      assertArrayEquals(contents(secret), contents(local), "the connection the region was exposed to reaches it");

      long segment = ((ShmRegion) secret).segment.id;
      assertNotNull(a.server.peer().segment(segment), "a's segment is mapped for a's connection");
      assertEquals(null, b.server.peer().segment(segment), "and not for b's: b's peer never sent it");
      byte[] stolenDescriptor = secret.remote().toBytes();
      Region wiped = pair.serverDomain.allocate(4096, Access.LOCAL);
      ExecutionException e = assertThrows(ExecutionException.class, () -> b.server
          .read(wiped, 0, org.cachedafs.transport.RemoteRegion.of(stolenDescriptor), 0, 4096).get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof RemoteAccessException, e.toString());
      assertEquals(b.server, pair.closedCauses.poll(10, TimeUnit.SECONDS).connection(), "the connection that tried closes");
      assertArrayEquals(new byte[4096], contents(wiped), "and read nothing");
      b.closed.get(10, TimeUnit.SECONDS); // its client side hears of it
      assertThrows(ExecutionException.class, () -> b.server.write(local, 0, secret.remote(), 0, 16).get(10, TimeUnit.SECONDS));

      assertTrue(a.server.isOpen() && a.connection.isOpen(), "the other connection is unaffected");
      a.server.read(local, 0, secret.remote(), 0, 4096).get(10, TimeUnit.SECONDS);
      a.connection.send(ByteBuffer.wrap(new byte[] {7}));
      assertArrayEquals(new byte[] {7}, pair.atServer.poll(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void aReadOnlyRegionCannotBeWrittenByThePeerNotEvenWithTheDescriptorItWasGiven() throws Exception {
    try (ShmPair pair = new ShmPair(); ShmPair.Client client = pair.connect()) {
      Region readOnly = random(pair.serverDomain, 8192, 2, Access.REMOTE_READ);
      byte[] before = contents(readOnly);
      Region local = client.domain.allocate(8192, Access.LOCAL);
      client.connection.read(local, 0, readOnly.remote(), 0, 8192).get(10, TimeUnit.SECONDS);
      assertArrayEquals(before, contents(local), "it can be read");

      long segment = ((ShmRegion) readOnly).segment.id;
      PeerMemory.Segment mapped = client.connection.peer().segment(segment);
      assertTrue(mapped.mapping().isReadOnly(), "the peer maps it read-only");

      // What the peer process received: try everything it could do with that descriptor.
      int given = ((ShmRegion) readOnly).segment.descriptorForPeer();
      Native nat = Native.load();
      try {
        Path link = Path.of("/proc/self/fd/" + given);
        try (FileChannel ch = FileChannel.open(link, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
          // Reopening read-write through /proc works on a memfd, but the seal still holds:
          assertThrows(IOException.class, () -> ch.map(FileChannel.MapMode.READ_WRITE, 0, 8192), "no writable shared mapping");
          assertThrows(IOException.class, () -> ch.write(ByteBuffer.wrap(new byte[] {1}), 0), "no write");
          assertThrows(IOException.class, () -> ch.truncate(0), "no shrinking (which would fault the owner's mapping)");
        }
        assertTrue((nat.seals(given) & Native.F_SEAL_SEAL) != 0, "and no seal can be removed or added");
      } finally {
        nat.closeQuietly(given);
      }

      ExecutionException e = assertThrows(ExecutionException.class,
          () -> client.connection.write(local, 0, readOnly.remote(), 0, 8).get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof RemoteAccessException, e.toString());
      client.closed.get(10, TimeUnit.SECONDS);
      assertFalse(client.connection.isOpen(), "a remote access error ends the connection");
      assertArrayEquals(before, contents(readOnly), "the region is as it was");
    }
  }

  @Test
  void aWritableSegmentIsSealedAgainstShrinkingAndGrowing() throws Exception {
    try (ShmPair pair = new ShmPair()) {
      Region writable = pair.serverDomain.allocate(8192, Access.REMOTE_READ_WRITE);
      int given = ((ShmRegion) writable).segment.descriptorForPeer();
      Native nat = Native.load();
      try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + given), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        assertThrows(IOException.class, () -> ch.truncate(0), "a peer cannot shrink it under the owner's mapping");
        assertThrows(IOException.class, () -> ch.write(ByteBuffer.wrap(new byte[] {1}), 8192), "nor grow it");
        ch.map(FileChannel.MapMode.READ_WRITE, 0, 8192).put(0, (byte) 5);
        assertEquals(5, writable.buffer().get(0), "it may write what it was given");
      } finally {
        nat.closeQuietly(given);
      }
    }
  }

  @Test
  void nothingOfEitherSideRemainsMappedAfterBothClose() throws Exception {
    Set<String> devShm = Procfs.devShm();
    String serverTag;
    String clientTag;
    Path socket;
    try (ShmPair pair = new ShmPair()) {
      socket = ((java.net.UnixDomainSocketAddress) pair.listener.localAddress()).getPath();
      serverTag = pair.serverDomain.tag();
      try (ShmPair.Client client = pair.connect()) {
        clientTag = client.domain.tag();
        Region server = random(pair.serverDomain, 1 << 20, 3, Access.REMOTE_READ_WRITE);
        Region clientSide = random(client.domain, 1 << 20, 4, Access.REMOTE_READ_WRITE);
        Region local = client.domain.allocate(1 << 20, Access.LOCAL);
        client.connection.read(local, 0, server.remote(), 0, 1 << 20).get(10, TimeUnit.SECONDS);
        client.server.write(pair.serverDomain.allocate(16, Access.LOCAL), 0, clientSide.remote(), 0, 16).get(10, TimeUnit.SECONDS);
        client.connection.send(ByteBuffer.wrap(new byte[] {1}));
        pair.atServer.poll(10, TimeUnit.SECONDS);
        assertTrue(Files.exists(socket));
        List<String> serverMaps = Procfs.mappingsOf(serverTag);
        assertTrue(serverMaps.stream().anyMatch(l -> l.contains("-seg")) && serverMaps.stream().anyMatch(l -> l.contains("-ring")),
            "while open, the server's segments and ring file are mapped: " + serverMaps);
        assertTrue(Procfs.mappingsOf(clientTag).size() >= 3, "and the client's segments, by both sides");
      }
    }
    assertTrue(Procfs.eventually(() -> Procfs.mappingsOf(serverTag).isEmpty() && Procfs.mappingsOf(clientTag).isEmpty()),
        "after both sides closed, nothing of either is mapped: " + Procfs.mappingsOf(serverTag) + Procfs.mappingsOf(clientTag));
    assertTrue(Procfs.memfdDescriptors().stream().noneMatch(d -> d.contains(serverTag) || d.contains(clientTag)),
        "and no descriptor of their memory files is open");
    assertEquals(devShm, Procfs.devShm(), "nothing was ever created in /dev/shm");
    assertFalse(Files.exists(socket) || Files.exists(socket.getParent()), "the listener removed its socket and private directory");
  }
}
