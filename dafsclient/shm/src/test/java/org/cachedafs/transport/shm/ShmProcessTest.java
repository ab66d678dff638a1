package org.cachedafs.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.Listener;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteRegion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * shm between two real processes: messages and one-sided transfers both ways, then the peer killed
 * with SIGKILL (no chance to clean up) while this side holds its memory mapped.
 */
class ShmProcessTest {
  private final ShmTransport shm = new ShmTransport();
  private final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
  private final CompletableFuture<Throwable> closed = new CompletableFuture<>();
  private final CompletableFuture<Connection> opened = new CompletableFuture<>();

  private final ConnectionHandler handler = new ConnectionHandler() {
    @Override
    public void onOpen(Connection c) {
      opened.complete(c);
    }

    @Override
    public void onMessage(Connection c, Received r) {
      received.add(ShmPair.bytes(r.detach()));
    }

    @Override
    public void onClosed(Connection c, Throwable cause) {
      closed.complete(cause);
    }
  };

  /** A started peer process and what it printed when ready. */
  private record Peer(Process process, String tag, long pid) {}

  private static Peer start(String mode, Path socket) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx96m",
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), ShmPeer.class.getName(), mode, socket.toString());
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    String ready = line.get(30, TimeUnit.SECONDS);
    assertTrue(ready != null && ready.startsWith("READY "), "the peer started: " + ready);
    String[] words = ready.split(" ");
    return new Peer(p, words[1], Long.parseLong(words[2]));
  }

  private byte[] ask(Connection c, byte command, byte[] body) throws Exception {
    c.send(ByteBuffer.allocate(1 + body.length).put(command).put(body).flip());
    byte[] answer = received.poll(30, TimeUnit.SECONDS);
    assertTrue(answer != null && answer[0] == command, "the peer answered command " + (char) command);
    return answer;
  }

  /** Messages and one-sided transfers both ways between this process and the peer. */
  private void exchange(Connection c, ShmDomain domain, Peer peer) throws Exception {
    byte[] hello = "across processes".getBytes(StandardCharsets.US_ASCII);
    byte[] echo = ask(c, (byte) 'E', hello);
    assertArrayEquals(hello, java.util.Arrays.copyOfRange(echo, 1, echo.length));

    // The peer's memory, read and written by this side alone.
    byte[] answer = ask(c, (byte) 'X', new byte[0]);
    RemoteRegion theirs = RemoteRegion.of(java.util.Arrays.copyOfRange(answer, 1, answer.length));
    Region local = domain.allocate(ShmPeer.EXPOSED, Access.LOCAL);
    c.read(local, 0, theirs, 0, ShmPeer.EXPOSED).get(10, TimeUnit.SECONDS);
    byte[] expected = new byte[ShmPeer.EXPOSED];
    new Random(7).nextBytes(expected);
    byte[] got = new byte[ShmPeer.EXPOSED];
    local.buffer().get(got);
    assertArrayEquals(expected, got, "a one-sided read of the other process's region");
    byte[] mine = new byte[ShmPeer.EXPOSED];
    new Random(8).nextBytes(mine);
    local.buffer().put(mine);
    c.write(local, 0, theirs, 0, ShmPeer.EXPOSED).get(10, TimeUnit.SECONDS);
    long crc = ByteBuffer.wrap(ask(c, (byte) 'S', new byte[0]), 1, 8).getLong();
    assertEquals(ShmPeer.crc(ByteBuffer.wrap(mine)), crc, "a one-sided write into the other process's region, as it sees it");

    // This side's memory, written and read by the peer alone.
    Region exposed = domain.allocate(1 << 16, Access.REMOTE_READ_WRITE);
    byte[] d = exposed.remote().toBytes();
    ask(c, (byte) 'W', ByteBuffer.allocate(12 + d.length).putLong(9).putInt(1 << 16).put(d).array());
    byte[] written = new byte[1 << 16];
    new Random(9).nextBytes(written);
    byte[] landed = new byte[1 << 16];
    exposed.buffer().get(landed);
    assertArrayEquals(written, landed, "the other process wrote into this one's region");
    byte[] fresh = new byte[1 << 16];
    new Random(10).nextBytes(fresh);
    exposed.buffer().put(fresh);
    crc = ByteBuffer.wrap(ask(c, (byte) 'R', ByteBuffer.allocate(4 + d.length).putInt(1 << 16).put(d).array()), 1, 8).getLong();
    assertEquals(ShmPeer.crc(ByteBuffer.wrap(fresh)), crc, "and read it");
    assertFalse(Procfs.mappingsOf(peer.tag()).isEmpty(), "the peer's memory is mapped here while it lives");
  }

  private void killAndCheck(Peer peer, Set<String> devShm) throws Exception {
    peer.process().destroyForcibly();
    assertTrue(peer.process().waitFor(20, TimeUnit.SECONDS), "the peer died");
    closed.get(10, TimeUnit.SECONDS); // onClosed: the survivor noticed
    assertTrue(Procfs.eventually(() -> Procfs.mappingsOf(peer.tag()).isEmpty()),
        "no mapping of the dead peer's memory stays here: " + Procfs.mappingsOf(peer.tag()));
    assertTrue(Procfs.memfdDescriptors().stream().noneMatch(f -> f.contains(peer.tag())), "nor a descriptor of it");
    assertEquals(devShm, Procfs.devShm(), "and nothing of either process is in /dev/shm");
  }

  @Test
  void thePeerProcessListensAndIsKilled(@TempDir Path dir) throws Exception {
    Set<String> devShm = Procfs.devShm();
    Path socket = dir.resolve("peer.sock");
    Peer peer = start("listen", socket);
    try (ShmDomain domain = (ShmDomain) shm.openDomain()) {
      Connection c = shm.connect(UnixDomainSocketAddress.of(socket), domain, handler);
      try {
        exchange(c, domain, peer);
        killAndCheck(peer, devShm);
        assertFalse(c.isOpen());
      } finally {
        c.close();
      }
    } finally {
      peer.process().destroyForcibly();
    }
  }

  @Test
  void thePeerProcessConnectsAndIsKilled(@TempDir Path dir) throws Exception {
    Set<String> devShm = Procfs.devShm();
    Path socket = dir.resolve("sock");
    try (ShmDomain domain = (ShmDomain) shm.openDomain();
        Listener listener = shm.listen(UnixDomainSocketAddress.of(socket), domain, handler)) {
      assertEquals(socket, ((UnixDomainSocketAddress) listener.localAddress()).getPath());
      Peer peer = start("connect", socket);
      try {
        Connection c = opened.get(10, TimeUnit.SECONDS);
        exchange(c, domain, peer);
        List<String> mine = Procfs.mappingsOf(domain.tag());
        killAndCheck(peer, devShm);
        assertFalse(c.isOpen());
        assertTrue(mine.size() >= 2, "this side's own memory was mapped meanwhile: " + mine);
      } finally {
        peer.process().destroyForcibly();
      }
    }
  }
}
