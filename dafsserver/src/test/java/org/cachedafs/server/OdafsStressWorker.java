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
 * handle (0 while it is being replaced), its incarnation number, a count of the local writer's
 * changes to it (odd while one is under way), and per block its state: a generation and whether it
 * was written, truncated away or never written, with a pending bit set by the writer before it starts
 * changing the block and cleared (with the new state) after the server answered. A reader takes the
 * block's state and the file's hash before and after its read: if neither moved and nothing was
 * pending, no change overlapped the read, and what it read must be exactly that state (the stale-read
 * check); otherwise it must still be whole (the torn-read check).
 *
 * <p><b>The one torn read allowed.</b> The server makes its reads atomic with its own writes
 * ({@link FileNode#data()}), but nothing makes them atomic with a local writer's: Linux copies a
 * buffered write into the page cache while a read of the same page may be copying it out. So a read
 * the server answered by RPC while a local change to the file was under way may be torn; the reader
 * counts those apart ({@code tornByLocal}) and lets them pass. A read served by one-sided reads of the
 * exported cache never may: the cache fills nothing while a local open is counted, and withdraws a
 * fill that a local open overlapped.
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

  /** The ledger's longs per file: hash, incarnation, local changes, then the blocks' states. */
  private static final int PER_FILE = BLOCKS + 3;
  private static final int HASH = 0;
  private static final int INCARNATION = 1;
  private static final int LOCAL_CHANGES = 2;
  private static final int BLOCK_STATES = 3;

  static long ledgerBytes() {
    return 8L * FILES * PER_FILE;
  }

  private int at(int file, int slot) {
    return 8 * (file * PER_FILE + slot);
  }

  private long hash(int f) {
    return (long) LONGS.getAcquire(ledger, at(f, HASH));
  }

  private long incarnation(int f) {
    return (long) LONGS.getAcquire(ledger, at(f, INCARNATION));
  }

  private long localChanges(int f) {
    return (long) LONGS.getAcquire(ledger, at(f, LOCAL_CHANGES));
  }

  private long state(int f, int b) {
    return (long) LONGS.getAcquire(ledger, at(f, BLOCK_STATES + b));
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
      set(at(f, INCARNATION), ++inc);
      set(at(f, HASH), handleHash(open[f]));
    }
    long ops = 0;
    ByteBuffer buf = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
    while (System.nanoTime() < deadline && !Files.exists(stop)) {
      int f = writer + writers * rnd.nextInt((FILES - writer + writers - 1) / writers);
      int p = rnd.nextInt(100);
      if (p < 88) {
        int b = rnd.nextInt(BLOCKS);
        long g = ++gen;
        set(at(f, BLOCK_STATES + b), state(g, WRITTEN, true));
        stamp(buf, f, incarnation(f), b, g);
        if (local == null) {
          s.write(open[f], (long) b * BLOCK, buf);
        } else {
          long c = localChanges(f);
          set(at(f, LOCAL_CHANGES), c + 1);
          try (FileChannel ch = FileChannel.open(local.resolve(name(f)), StandardOpenOption.WRITE)) {
            while (buf.hasRemaining()) {
              ch.write(buf, (long) b * BLOCK + buf.position());
            }
          } finally {
            set(at(f, LOCAL_CHANGES), c + 2);
          }
        }
        set(at(f, BLOCK_STATES + b), state(g, WRITTEN, false));
      } else if (p < 98) {
        int keep = rnd.nextInt(BLOCKS);
        long g = ++gen;
        for (int b = keep; b < BLOCKS; b++) {
          set(at(f, BLOCK_STATES + b), state(g, ABSENT, true));
        }
        if (local == null) {
          s.setattr(open[f].handle(), open[f], SetAttributes.size((long) keep * BLOCK));
        } else {
          long c = localChanges(f);
          set(at(f, LOCAL_CHANGES), c + 1);
          try (FileChannel ch = FileChannel.open(local.resolve(name(f)), StandardOpenOption.WRITE)) {
            ch.truncate((long) keep * BLOCK);
          } finally {
            set(at(f, LOCAL_CHANGES), c + 2);
          }
        }
        for (int b = keep; b < BLOCKS; b++) {
          set(at(f, BLOCK_STATES + b), state(g, ABSENT, false));
        }
      } else {
        set(at(f, HASH), 0); // being replaced: no reader checks it against the ledger until the new hash is in
        s.close(open[f]);
        s.remove(s.root(), name(f));
        open[f] = s.open(s.root(), name(f), OpenMode.readWrite().create(0644).exclusive());
        for (int b = 0; b < BLOCKS; b++) {
          set(at(f, BLOCK_STATES + b), state(0, NEVER, false));
        }
        set(at(f, INCARNATION), ++inc);
        set(at(f, HASH), handleHash(open[f]));
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
    long tornByLocal = 0;
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
      long c0 = localChanges(f);
      long accepted0 = s.odafsStats().accepted();
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
      boolean oneSided = s.odafsStats().accepted() != accepted0; // this process's only reader: the count moved for this read
      long c1 = localChanges(f);
      long l1 = state(f, b);
      long h1 = hash(f);
      reads++;
      boolean tracked = h0 == o.hash && h1 == o.hash && l0 == l1 && (l0 & 1) == 0;
      String why = check(buf, n, f, o.inc, b, tracked ? l0 : -1);
      if (tracked) {
        strict++;
      }
      if (why != null && why.startsWith(TORN) && !tracked && !oneSided && (c0 != c1 || (c0 & 1) != 0)) {
        tornByLocal++; // an RPC read that raced a local write or truncation: the file system does not make that atomic
        why = null;
      }
      if (why != null) {
        bad++;
        if (bad <= 10) {
          System.out.println("BAD read of file " + f + " block " + b + ": " + why + " (ledger " + l0 + " -> " + l1 + ", tracked " + tracked
              + ", " + (oneSided ? "served one-sided from the exported cache" : "served by RPC") + ", local changes " + c0 + " -> " + c1 + ")");
        }
      }
      if (h1 != o.hash && h1 != 0) {
        s.close(o.file);
        open[f] = null;
        reopened++;
      }
    }
    OdafsStats st = s.odafsStats();
    System.out.println("reader reads=" + reads + " strict=" + strict + " bad=" + bad + " odafs=" + st.accepted() + " tornByLocal=" + tornByLocal
        + " reopened=" + reopened + " " + st);
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

  private static final String TORN = "torn";
  private static final String MISPLACED = "misplaced";

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
    // Every unit must be a stamp of this file and unit, of one incarnation and one generation. A unit
    // in its place but of another generation, or zeros beside stamps, is a torn block (a read that
    // raced a write or a truncation of it); anything else is misplaced.
    long unit = (long) b * BLOCK / 16;
    long incSeen = -1;
    long gen = -1;
    int torn = -1;
    for (int i = 0; i < BLOCK / 16; i++) {
      long w0 = buf.getLong(16 * i);
      long w1 = buf.getLong(16 * i + 8);
      if (w0 == 0 && w1 == 0) {
        torn = torn < 0 ? i : torn;
        continue;
      }
      long incHere = w0 >>> 32 & 0xFFFFFFL;
      if (w0 != ((long) f << 56 | incHere << 32 | (unit + i)) || (incSeen >= 0 && incHere != incSeen)) {
        return MISPLACED + " at unit " + i + ": " + Long.toHexString(w0) + "/" + w1 + " in a block of incarnation " + incSeen;
      }
      incSeen = incHere;
      if (gen < 0) {
        gen = w1;
      } else if (w1 != gen) {
        torn = torn < 0 ? i : torn;
      }
    }
    if (inc >= 0 && incSeen != (inc & 0xFFFFFFL)) {
      return "data of incarnation " + incSeen + " through an open of incarnation " + inc;
    }
    if (torn >= 0) {
      return TORN + " at unit " + torn + ": " + Long.toHexString(buf.getLong(16 * torn)) + "/" + buf.getLong(16 * torn + 8)
          + " in a block of generation " + gen;
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
