package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.stream.Stream;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsSession;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's shm listener shares memory only with a client that got a credential over an
 * authenticated session: one that never authenticated, or guesses, or replays a used credential, maps
 * nothing of the server's and is refused before anything is shared.
 */
class ShmAdmissionTest {
  @TempDir Path dir;

  @Test
  void aClientThatNeverAuthenticatedMapsNothing() throws Exception {
    try (ServerFixture f = new ServerFixture(dir)) {
      List<String> offered = f.server.offeredTransports();
      assertEquals(1, offered.size(), "the server offers shm beside tcp: " + offered);
      Transport shm = Transports.forScheme("shm");
      SocketAddress address = shm.parseAddress(offered.get(0).substring("shm://".length()));
      SecureRandom random = new SecureRandom();
      long memfdsBefore = memfds();
      try (MemoryDomain domain = shm.openDomain()) {
        for (byte[] credential : List.of(new byte[0], new byte[32], random.generateSeed(32), random.generateSeed(200))) {
          IOException refused = assertThrows(IOException.class,
              () -> shm.connect(address, domain, new Quiet(), ConnectionLimits.defaults(), credential).close());
          assertTrue(refused.getMessage().contains("refused"), refused.getMessage());
        }
        assertEquals(memfdsBefore, memfds(), "no memory of the server's was passed to a client it refused");
      }
      // A session that authenticated moves, and the server still serves it.
      DafsSession good = f.connect(ClientOptions.defaults().withTransport("shm"));
      assertEquals("shm", good.transport());
      good.getattr(good.root());
    }
  }

  /** The memfd descriptors this process holds: shared memory it received or made. */
  private static long memfds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(p -> {
        try {
          return Files.readSymbolicLink(p).toString().startsWith("/memfd:");
        } catch (IOException e) {
          return false; // closed while listed
        }
      }).count();
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
