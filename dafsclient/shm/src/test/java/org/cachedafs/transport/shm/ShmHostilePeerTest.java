package org.cachedafs.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Access;
import org.junit.jupiter.api.Test;

/**
 * A peer that breaks the rules: it scribbles over the shared ring file (indices, record headers,
 * data) and sends control records that lie. The victim (the listener's side) must close that
 * connection with a logged reason, never crash or hang, and go on serving a well-behaved connection.
 *
 * <p>The hostile peer is this process's own connecting side, reached in the package: it maps the
 * same ring file as the victim, so what it writes is what a hostile process would write.
 */
class ShmHostilePeerTest {
  private static final int ROUNDS = 60;
  private static final int MODES = 14;

  @Test
  void everyCorruptionClosesOnlyTheCorruptedConnection() throws Exception {
    long seed = Long.getLong("shm.hostile.seed", System.nanoTime());
    System.out.println("ShmHostilePeerTest seed " + seed + " (rerun with -Dshm.hostile.seed=" + seed + ")");
    Random rnd = new Random(seed);
    Native nat = Native.load();
    Map<String, Integer> reasons = new TreeMap<>();
    try (ShmPair pair = new ShmPair(); ShmPair.Client good = pair.connect()) {
      for (int round = 0; round < ROUNDS; round++) {
        int mode = round < MODES ? round : rnd.nextInt(MODES);
        try (ShmPair.Client hostile = pair.connect()) {
          ShmConnection victim = hostile.server;
          assertNotNull(victim);
          corrupt(mode, rnd, hostile.connection, victim, nat);
          ShmPair.Closed closed = pair.closedCauses.poll(10, TimeUnit.SECONDS);
          assertNotNull(closed, "round " + round + " (mode " + mode + "): the victim closed the connection");
          assertEquals(victim, closed.connection(), "round " + round + ": only the corrupted connection closed");
          assertTrue(closed.cause() instanceof IOException && closed.cause().getMessage() != null,
              "round " + round + " (mode " + mode + ") closed with a reason: " + closed.cause());
          reasons.merge("mode " + mode + ": " + closed.cause().getClass().getSimpleName() + ": "
              + closed.cause().getMessage().replaceAll("-?[0-9a-f]{6,}|-?\\d+", "N"), 1, Integer::sum);
          assertFalse(victim.isOpen());
          if (mode == 12) {
            assertArrayEquals(new byte[] {42}, pair.atServer.poll(10, TimeUnit.SECONDS), "what came before the lie was delivered");
          }
        }
        // The well-behaved connection to the same listener is untouched, both ways.
        byte[] ping = {(byte) round, 1, 2, 3};
        good.connection.send(ByteBuffer.wrap(ping));
        assertArrayEquals(ping, pair.atServer.poll(10, TimeUnit.SECONDS), "round " + round + ": the good connection still delivers");
        good.server.send(ByteBuffer.wrap(ping));
        assertArrayEquals(ping, good.received.poll(10, TimeUnit.SECONDS));
      }
      assertTrue(good.connection.isOpen() && good.server.isOpen());
    }
    reasons.forEach((reason, n) -> System.out.println(n + " x " + reason));
  }

  /** memfd_create with any flags, which the transport's own binding does not offer. */
  static final class HugePages {
    public interface LibC {
      int memfd_create(String name, int flags);
    }

    static final LibC LIBC = jnr.ffi.LibraryLoader.create(LibC.class).load("c");
  }

  /** The ring file as the hostile side maps it, in native order. */
  private static ByteBuffer ring(ShmConnection hostile) {
    return hostile.ringFile().duplicate().order(ByteOrder.nativeOrder());
  }

  private static void corrupt(int mode, Random rnd, ShmConnection hostile, ShmConnection victim, Native nat) throws Exception {
    ByteBuffer file = ring(hostile);
    // Ring 1 carries the connecting (hostile) side's messages to the accepting (victim) side.
    int control = Ring.controlOffset(1);
    int data = Ring.dataOffset(1);
    switch (mode) {
      case 0 -> file.putLong(control + Ring.PRODUCED, rnd.nextLong() | 1L << 62);
      case 1 -> {
        int produced = 8 * (1 + rnd.nextInt(Ring.RING_BYTES / 8));
        byte[] junk = new byte[Math.min(produced, 1 << 16)];
        rnd.nextBytes(junk);
        file.put(data, junk);
        file.putLong(control + Ring.PRODUCED, produced);
      }
      case 2 -> {
        int[] lengths = {-1 - rnd.nextInt(1 << 30), Ring.MAX_MESSAGE + 1 + rnd.nextInt(1 << 20), 9 + rnd.nextInt(Ring.MAX_MESSAGE - 9)};
        file.putInt(data, lengths[rnd.nextInt(lengths.length)]);
        file.putInt(data + 4, Ring.MSG);
        file.putLong(control + Ring.PRODUCED, 16);
      }
      case 3 -> {
        file.putInt(data, rnd.nextInt());
        file.putInt(data + 4, Ring.SKIP);
        file.putLong(control + Ring.PRODUCED, 16);
      }
      case 4 -> {
        // The victim's own outgoing ring: its consumer index, which the hostile side writes.
        file.putLong(Ring.controlOffset(0) + Ring.CONSUMED, rnd.nextLong() | 1L << 62);
        try {
          victim.send(ByteBuffer.wrap(new byte[] {1}));
        } catch (IOException expected) {
          // The victim noticed while sending; it has closed.
        }
        return;
      }
      case 5 -> file.putLong(control + Ring.CONTROL_SENT, hostile.messagesSent() + 1000 + rnd.nextInt(1000));
      case 6 -> {
        byte[] junk = new byte[256];
        rnd.nextBytes(junk);
        junk[7] |= 0x40; // the produced index is certainly impossible
        file.put(control, junk);
      }
      case 7 -> {
        int fd = nat.memfd("dafs-shm-hostile-unsealed");
        nat.ftruncate(fd, 1 << 16);
        hostile.sendControl(ControlRecord.segment(rnd.nextLong(), 1 << 16, Access.REMOTE_READ_WRITE), fd);
      }
      case 8 -> {
        int[] socket = nat.socketpair();
        nat.closeQuietly(socket[1]);
        hostile.sendControl(ControlRecord.segment(rnd.nextLong(), 4096, Access.REMOTE_READ), socket[0]);
      }
      case 9 -> hostile.sendControl(ControlRecord.region(rnd.nextLong(), rnd.nextLong(), 0, 64, Access.REMOTE_READ), -1);
      case 10 -> hostile.sendControl(new ControlRecord((byte) (20 + rnd.nextInt(100)), (byte) 0, 0, rnd.nextLong(), 0, 0), -1);
      case 11 -> {
        // Sealed, but smaller than it claims: mapping past its end would fault on access.
        int fd = nat.memfd("dafs-shm-hostile-short");
        nat.ftruncate(fd, 4096);
        nat.addSeals(fd, Native.F_SEAL_SHRINK | Native.F_SEAL_GROW);
        hostile.sendControl(ControlRecord.segment(rnd.nextLong(), 1 << 20, Access.REMOTE_READ_WRITE), fd);
      }
      case 12 -> {
        // A good message, then a record header that lies about its length.
        hostile.send(ByteBuffer.wrap(new byte[] {42}));
        int at = data + 16;
        file.putInt(at, Ring.RING_BYTES);
        file.putInt(at + 4, Ring.MSG);
        file.putLong(control + Ring.PRODUCED, 32);
      }
      case 13 -> {
        // Sealed, the right size, but backed by huge pages, which fault when the pool runs dry.
        int fd = HugePages.LIBC.memfd_create("dafs-shm-hostile-huge", 1 | 2 | 4); // MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB
        if (fd < 0) { // no hugetlbfs here: an unsealed plain file stands in
          fd = nat.memfd("dafs-shm-hostile-plain");
        } else {
          nat.addSeals(fd, Native.F_SEAL_SHRINK | Native.F_SEAL_GROW);
        }
        hostile.sendControl(ControlRecord.segment(rnd.nextLong(), 2 << 20, Access.REMOTE_READ_WRITE), fd);
      }
      default -> throw new IllegalArgumentException("mode " + mode);
    }
    hostile.doorbell(); // wakes the victim, should it sleep
  }
}
