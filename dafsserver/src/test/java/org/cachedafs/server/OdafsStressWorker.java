package org.cachedafs.server;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OdafsStats;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.SetAttributes;

/**
 * One process of {@link OdafsStressTest}: a writer that changes stamped blocks of the files it owns
 * (writes, truncations, removal and re-creation) through the server or, as a local writer, directly
 * on the export's files, or a reader that reads them with ODAFS and checks every byte.
 *
 * <p><b>Stamps.</b> Every 16 bytes of a block written hold {@code file << 56 | incarnation << 32 |
 * unit} (the unit's index in the file) and the write's generation, so a block is whole only if every
 * unit has the right place and one generation.
 *
 * <p><b>The ledger</b>, a file every process maps: per file, the hash of the current incarnation's
 * handle (0 while it is being replaced), its incarnation number, and per block its state: a
 * generation and whether it was written, truncated away or never written, with a pending bit set by
 * the writer before it starts changing the block and cleared (with the new state) after the server
 * answered. A reader takes the block's state and the file's hash before and after its read: if
 * neither moved and nothing was pending, no change overlapped the read, and what it read must be
 * exactly that state (the stale-read check); otherwise it must still be whole (the torn-read check).
 */
public final class OdafsStressWorker {
  static final int BLOCK = 4096;
  static final int FILES = 8;
  static final int BLOCKS = 64;
  private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
  private static final long NEVER = 0;
  private static final long WRITTEN = 1;
  private static final long ABSENT = 2;

  private final MappedByteBuffer ledger;
  private final DafsSession s;
  private final SplittableRandom rnd;

  private OdafsStressWorker(Path ledger, DafsSession s, long seed) throws IOException {
    try (FileChannel ch = FileChannel.open(ledger, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      this.ledger = ch.map(FileChannel.MapMode.READ_WRITE, 0, ledgerBytes());
    }
    this.s = s;
    this.rnd = new SplittableRandom(seed);
  }

  static long ledgerBytes() {
    return 8L * FILES * (BLOCKS + 2);
  }

  private int at(int file, int slot) {
    return 8 * (file * (BLOCKS + 2) + slot);
  }

  private long hash(int f) {
    return (long) LONGS.getAcquire(ledger, at(f, 0));
  }

  private long incarnation(int f) {
    return (long) LONGS.getAcquire(ledger, at(f, 1));
  }

  private long state(int f, int b) {
    return (long) LONGS.getAcquire(ledger, at(f, 2 + b));
  }

  private void set(int at, long v) {
    LONGS.setRelease(ledger, at, v);
  }

  private static long state(long gen, long kind, boolean pending) {
    return gen << 3 | kind << 1 | (pending ? 1 : 0);
  }

  static long handleHash(OpenFile f) {
    long h = Arrays.hashCode(f.handle().bytes()) * 0x9E3779B97F4A7C15L;
    return h == 0 ? 1 : h;
  }

  static String name(int f) {
    return "stress-" + f;
  }

  // --- the writer --------------------------------------------------------------------------------

  /**
   * Changes the files {@code writer} owns until the deadline. With {@code local} (the export
   * directory), the writes and truncations are made by this process directly on the export's files,
   * behind the server's back, each through an open of its own, as a local program would: the
   * server's local-writer fence must make them visible like any other change. Removal and re-creation
   * still go through the server, which names the new incarnation's handle for the ledger.
   */
  private void write(int writer, int writers, long deadline, Path stop, Path local) throws Exception {
    OpenFile[] open = new OpenFile[FILES];
    long gen = 0;
    long inc = 0;
    for (int f = writer; f < FILES; f += writers) {
      open[f] = s.open(s.root(), name(f), OpenMode.readWrite().create(0644).truncate());
      set(at(f, 1), ++inc);
      set(at(f, 0), handleHash(open[f]));
    }
    long ops = 0;
    ByteBuffer buf = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
    while (System.nanoTime() < deadline && !Files.exists(stop)) {
      int f = writer + writers * rnd.nextInt((FILES - writer + writers - 1) / writers);
      int p = rnd.nextInt(100);
      if (p < 88) {
        int b = rnd.nextInt(BLOCKS);
        long g = ++gen;
        set(at(f, 2 + b), state(g, WRITTEN, true));
        stamp(buf, f, incarnation(f), b, g);
        if (local == null) {
          s.write(open[f], (long) b * BLOCK, buf);
        } else {
          try (FileChannel ch = FileChannel.open(local.resolve(name(f)), StandardOpenOption.WRITE)) {
            while (buf.hasRemaining()) {
              ch.write(buf, (long) b * BLOCK + buf.position());
            }
          }
        }
        set(at(f, 2 + b), state(g, WRITTEN, false));
      } else if (p < 98) {
        int keep = rnd.nextInt(BLOCKS);
        long g = ++gen;
        for (int b = keep; b < BLOCKS; b++) {
          set(at(f, 2 + b), state(g, ABSENT, true));
        }
        if (local == null) {
          s.setattr(open[f].handle(), open[f], SetAttributes.size((long) keep * BLOCK));
        } else {
          try (FileChannel ch = FileChannel.open(local.resolve(name(f)), StandardOpenOption.WRITE)) {
            ch.truncate((long) keep * BLOCK);
          }
        }
        for (int b = keep; b < BLOCKS; b++) {
          set(at(f, 2 + b), state(g, ABSENT, false));
        }
      } else {
        set(at(f, 0), 0); // being replaced: no reader checks it against the ledger until the new hash is in
        s.close(open[f]);
        s.remove(s.root(), name(f));
        open[f] = s.open(s.root(), name(f), OpenMode.readWrite().create(0644).exclusive());
        for (int b = 0; b < BLOCKS; b++) {
          set(at(f, 2 + b), state(0, NEVER, false));
        }
        set(at(f, 1), ++inc);
        set(at(f, 0), handleHash(open[f]));
      }
      ops++;
    }
    System.out.println((local == null ? "writer" : "local writer") + " ops=" + ops);
  }

  private static void stamp(ByteBuffer buf, int f, long inc, int b, long gen) {
    buf.clear();
    long unit = (long) b * BLOCK / 16;
    for (int i = 0; i < BLOCK / 16; i++) {
      buf.putLong((long) f << 56 | (inc & 0xFFFFFFL) << 32 | (unit + i));
      buf.putLong(gen);
    }
    buf.flip();
  }

  // --- the reader --------------------------------------------------------------------------------

  private static final class Opened {
    OpenFile file;
    long hash;
    long inc;
  }

  private void read(long target, long deadline, Path stop) throws Exception {
    Opened[] open = new Opened[FILES];
    long reads = 0;
    long strict = 0;
    long bad = 0;
    long reopened = 0;
    ByteBuffer buf = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
    while (reads < target && System.nanoTime() < deadline && !Files.exists(stop)) {
      int f = rnd.nextInt(FILES);
      if (open[f] == null && (open[f] = reopen(f)) == null) {
        continue;
      }
      Opened o = open[f];
      // Hot blocks most of the time, so that references live long enough to be used; the rest keep
      // the small exported cache evicting.
      int b = rnd.nextInt(100) < 80 ? rnd.nextInt(BLOCKS / 4) : rnd.nextInt(BLOCKS);
      long h0 = hash(f);
      long l0 = state(f, b);
      buf.clear();
      int n;
      try {
        n = s.read(o.file, (long) b * BLOCK, buf);
      } catch (DafsException e) {
        // The file went stale under this open (replaced): open it again.
        open[f] = null;
        reopened++;
        continue;
      }
      long l1 = state(f, b);
      long h1 = hash(f);
      reads++;
      boolean tracked = h0 == o.hash && h1 == o.hash && l0 == l1 && (l0 & 1) == 0;
      String why = check(buf, n, f, o.inc, b, tracked ? l0 : -1);
      if (tracked) {
        strict++;
      }
      if (why != null) {
        bad++;
        if (bad <= 10) {
          System.out.println("BAD read of file " + f + " block " + b + ": " + why + " (ledger " + l0 + " -> " + l1 + ", tracked " + tracked + ")");
        }
      }
      if (h1 != o.hash && h1 != 0) {
        s.close(o.file);
        open[f] = null;
        reopened++;
      }
    }
    OdafsStats st = s.odafsStats();
    System.out.println("reader reads=" + reads + " strict=" + strict + " bad=" + bad + " odafs=" + st.accepted() + " reopened=" + reopened + " " + st);
    System.exit(bad == 0 ? 0 : 1);
  }

  private Opened reopen(int f) {
    long h0 = hash(f);
    long inc = incarnation(f);
    try {
      OpenFile file = s.open(s.root(), name(f), OpenMode.read());
      Opened o = new Opened();
      o.file = file;
      o.hash = handleHash(file);
      o.inc = h0 == o.hash && hash(f) == h0 ? inc : -1; // -1: an incarnation the ledger does not describe
      return o;
    } catch (DafsException e) {
      return null; // between removal and re-creation
    }
  }

  /**
   * Why the {@code n} bytes read of block {@code b} are wrong, or null. With {@code expected} a
   * state (no change overlapped the read), they must be exactly it; with -1, only whole.
   */
  private static String check(ByteBuffer buf, int n, int f, long inc, int b, long expected) {
    boolean zero = true;
    for (int i = 0; i < n; i++) {
      if (buf.get(i) != 0) {
        zero = false;
        break;
      }
    }
    if (n == 0 || (zero && n == BLOCK)) {
      if (expected >= 0 && (expected >> 1 & 3) == WRITTEN) {
        return "absent, but generation " + (expected >> 3) + " was written and nothing changed it";
      }
      return null;
    }
    if (n != BLOCK) {
      return "a short block of " + n + " bytes";
    }
    long gen = buf.getLong(8);
    long unit = (long) b * BLOCK / 16;
    long incSeen = buf.getLong(0) >>> 32 & 0xFFFFFFL;
    for (int i = 0; i < BLOCK / 16; i++) {
      long w0 = buf.getLong(16 * i);
      long w1 = buf.getLong(16 * i + 8);
      if (w0 != ((long) f << 56 | incSeen << 32 | (unit + i)) || w1 != gen) {
        return "torn or misplaced at unit " + i + ": " + Long.toHexString(w0) + "/" + w1 + " in a block of generation " + gen;
      }
    }
    if (inc >= 0 && incSeen != (inc & 0xFFFFFFL)) {
      return "data of incarnation " + incSeen + " through an open of incarnation " + inc;
    }
    if (expected >= 0) {
      if ((expected >> 1 & 3) != WRITTEN) {
        return "generation " + gen + " present, but the block was " + ((expected >> 1 & 3) == ABSENT ? "truncated away" : "never written");
      }
      if (gen != expected >> 3) {
        return "generation " + gen + " where " + (expected >> 3) + " was the last written (stale)";
      }
    }
    return null;
  }

  /** {@code writer|local|reader URI TRANSPORT LEDGER STOPFILE SECONDS INDEX COUNT [TARGET|EXPORT]}. */
  public static void main(String[] args) throws Exception {
    String role = args[0];
    URI uri = URI.create(args[1]);
    ClientOptions options = ClientOptions.defaults().withTransport(args[2]).withOptimisticReads(role.equals("reader"));
    Path ledger = Path.of(args[3]);
    Path stop = Path.of(args[4]);
    long deadline = System.nanoTime() + Long.parseLong(args[5]) * 1_000_000_000L;
    int index = Integer.parseInt(args[6]);
    try (DafsSession s = DafsClient.connect(uri, options)) {
      OdafsStressWorker w = new OdafsStressWorker(ledger, s, System.nanoTime() ^ index * 0x9E3779B97F4A7C15L);
      if (role.equals("writer")) {
        w.write(index, Integer.parseInt(args[7]), deadline, stop, null);
      } else if (role.equals("local")) {
        w.write(index, Integer.parseInt(args[7]), deadline, stop, Path.of(args[8]));
      } else {
        w.read(Long.parseLong(args[8]), deadline, stop);
      }
    }
  }
}
