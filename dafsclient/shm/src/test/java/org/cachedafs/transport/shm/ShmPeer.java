package org.cachedafs.transport.shm;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.CRC32;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.ConnectionHandler;
import org.cachedafs.transport.ConnectionLimits;
import org.cachedafs.transport.Received;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteRegion;

/**
 * A peer in a process of its own, for {@link ShmProcessTest}: {@code listen PATH} or
 * {@code connect PATH}. Prints {@code READY <domain tag> <pid>} once it can be used, then answers
 * commands (one message each, first byte the command) until killed:
 * <ul>
 *   <li>{@code E...}: echoes the message;
 *   <li>{@code X}: exposes a region of {@link #EXPOSED} bytes of {@code Random(7)}; answers {@code X} and its descriptor;
 *   <li>{@code S}: answers {@code S} and the CRC32 of the exposed region;
 *   <li>{@code W seed length descriptor}: writes {@code length} bytes of {@code Random(seed)} into the named region at 0; answers {@code W};
 *   <li>{@code R length descriptor}: reads {@code length} bytes of the named region; answers {@code R} and their CRC32.
 * </ul>
 */
public final class ShmPeer {
  static final int EXPOSED = 1 << 20;

  private final ShmDomain domain;
  private final Region local;
  private volatile Region exposed;
  /** Commands run here, never on the receive thread. */
  private final ExecutorService worker = Executors.newSingleThreadExecutor();

  private ShmPeer(ShmDomain domain) {
    this.domain = domain;
    this.local = domain.allocate(EXPOSED, Access.LOCAL);
  }

  public static void main(String[] args) throws Exception {
    ShmTransport shm = new ShmTransport();
    ShmDomain domain = (ShmDomain) shm.openDomain();
    ShmPeer peer = new ShmPeer(domain);
    UnixDomainSocketAddress address = UnixDomainSocketAddress.of(Path.of(args[1]));
    if (args[0].equals("listen")) {
      shm.listen(address, domain, peer.handler());
    } else {
      shm.connect(address, domain, peer.handler(), ConnectionLimits.defaults(), new byte[0]);
    }
    System.out.println("READY " + domain.tag() + " " + ProcessHandle.current().pid());
    System.out.flush();
    // Until killed, or until the test's end of stdin closes.
    while (System.in.read() >= 0) {
      // nothing to read but the end
    }
  }

  private ConnectionHandler handler() {
    return new ConnectionHandler() {
      @Override
      public void onMessage(Connection c, Received r) {
        ByteBuffer m = r.detach();
        worker.execute(() -> {
          try {
            c.send(answer(c, m));
          } catch (Exception e) {
            e.printStackTrace();
          }
        });
      }

      @Override
      public void onClosed(Connection c, Throwable cause) {}
    };
  }

  private ByteBuffer answer(Connection c, ByteBuffer m) throws Exception {
    byte command = m.get();
    switch (command) {
      case 'E' -> {
        return m.rewind();
      }
      case 'X' -> {
        Region r = domain.allocate(EXPOSED, Access.REMOTE_READ_WRITE);
        byte[] content = new byte[EXPOSED];
        new Random(7).nextBytes(content);
        r.buffer().put(content);
        exposed = r;
        byte[] d = r.remote().toBytes();
        return ByteBuffer.allocate(1 + d.length).put((byte) 'X').put(d).flip();
      }
      case 'S' -> {
        return ByteBuffer.allocate(9).put((byte) 'S').putLong(crc(exposed.buffer())).flip();
      }
      case 'W' -> {
        long seed = m.getLong();
        int length = m.getInt();
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        local.buffer().put(data);
        c.write(local, 0, descriptor(m), 0, length).get();
        return ByteBuffer.wrap(new byte[] {'W'});
      }
      case 'R' -> {
        int length = m.getInt();
        c.read(local, 0, descriptor(m), 0, length).get();
        return ByteBuffer.allocate(9).put((byte) 'R').putLong(crc(local.buffer().limit(length))).flip();
      }
      default -> throw new IOException("unknown command " + command);
    }
  }

  private static RemoteRegion descriptor(ByteBuffer m) {
    byte[] d = new byte[m.remaining()];
    m.get(d);
    return RemoteRegion.of(d);
  }

  static long crc(ByteBuffer b) {
    CRC32 crc = new CRC32();
    crc.update(b.duplicate());
    return crc.getValue();
  }
}
