package org.cachedafs.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.cachedafs.logging.Loggers;
import org.slf4j.Logger;

/**
 * The clients that may hold state on this server, on disk in the state directory, so that a restarted
 * server knows whom to let reclaim (docs/operations.md, "State directory"). A client is recorded when
 * it creates a session, before the session is granted (and so before the client can hold anything);
 * it is forgotten when its last session is destroyed or expires, or when a grace period ends without
 * it. A server that stops, cleanly or not, forgets nobody: its clients reclaim after the restart.
 *
 * <p>The file {@code clients} is a log of lines {@code + ID NAME} and {@code - ID NAME} (the id and the
 * name's UTF-8 bytes in hex), each appended and forced to the disk before the call returns; at start
 * the log is read and written again holding only the clients still recorded, under a temporary name
 * moved into place. A line cut short by a crash is skipped: the session it was written for was never
 * granted.
 *
 * <p>Thread-safe: every method holds the monitor, so the appends of concurrent handshakes do not mix.
 */
final class ClientRecords implements AutoCloseable {
  private static final Logger log = Loggers.get(ClientRecords.class);
  static final String FILE_NAME = "clients";

  private final Path file;
  /** The clients recorded when the server started: the ones that may reclaim. */
  private final Set<ClientIdentity> atStart;
  /** Guarded by this: the clients whose last line is a {@code +}. */
  private final Set<ClientIdentity> onDisk;
  /** Guarded by this: the live sessions of each client. */
  private final Map<ClientIdentity, Integer> live = new HashMap<>();
  /** Guarded by this: the log, open for appending. */
  private final FileChannel out;

  private ClientRecords(Path file, Set<ClientIdentity> recorded, FileChannel out) {
    this.file = file;
    this.atStart = Set.copyOf(recorded);
    this.onDisk = new LinkedHashSet<>(recorded);
    this.out = out;
  }

  /** Reads the records in {@code stateDir} (none if there is no file yet) and compacts them. */
  static ClientRecords open(Path stateDir) throws IOException {
    Path file = stateDir.resolve(FILE_NAME);
    Set<ClientIdentity> recorded = new LinkedHashSet<>();
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        apply(recorded, line);
      }
    } catch (NoSuchFileException e) {
      // The first start on this state directory: nobody to wait for.
    }
    Path tmp = stateDir.resolve(FILE_NAME + ".tmp");
    try (FileChannel c = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
      StringBuilder all = new StringBuilder();
      recorded.forEach(r -> all.append("+ ").append(r.encoded()).append('\n'));
      writeFully(c, all.toString());
      c.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("the state directory " + stateDir + " cannot replace a file atomically: " + e.getMessage(), e);
    }
    forceDirectory(stateDir);
    FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    return new ClientRecords(file, recorded, out);
  }

  private static void apply(Set<ClientIdentity> recorded, String line) {
    String[] f = line.split(" ");
    try {
      if (f.length == 3 && f[0].equals("+")) {
        recorded.add(ClientIdentity.decode(f[1], f[2]));
        return;
      }
      if (f.length == 3 && f[0].equals("-")) {
        recorded.remove(ClientIdentity.decode(f[1], f[2]));
        return;
      }
    } catch (IllegalArgumentException e) {
      // Not hex: a line cut short or damaged; said below.
    }
    log.warn("skipping a damaged line of the client records: '{}'", line);
  }

  /** The clients recorded when the server started, which may reclaim during its grace period. */
  Set<ClientIdentity> atStart() {
    return atStart;
  }

  /**
   * A session of {@code c} is being created: on disk (forced) before this returns, unless it already
   * was. Throws if it cannot be written; the session must then not be granted.
   */
  synchronized void record(ClientIdentity c) throws IOException {
    live.merge(c, 1, Integer::sum);
    if (onDisk.contains(c)) {
      return;
    }
    try {
      append("+ ", c);
    } catch (IOException e) {
      live.computeIfPresent(c, (k, n) -> n > 1 ? n - 1 : null);
      throw new IOException("cannot record client " + c + " in " + file + ": " + e.getMessage(), e);
    }
    onDisk.add(c);
  }

  /** A session of {@code c} ended for good (destroyed, expired): with its last one the client is forgotten. */
  synchronized void release(ClientIdentity c) {
    Integer n = live.computeIfPresent(c, (k, v) -> v > 1 ? v - 1 : null);
    if (n == null) {
      forget(c);
    }
  }

  /** The grace period ended: the clients of {@code known} that never came back (no live session) are forgotten. */
  synchronized void forgetAbsent(Set<ClientIdentity> known) {
    for (ClientIdentity c : known) {
      if (!live.containsKey(c)) {
        forget(c);
      }
    }
  }

  /** Guarded by this. A failure is logged: the worst it does is make a later grace period wait for this client. */
  private void forget(ClientIdentity c) {
    if (!onDisk.remove(c)) {
      return;
    }
    try {
      append("- ", c);
    } catch (IOException e) {
      log.warn("cannot forget client {} in {}: {}; a restart would wait for it", c, file, e.toString());
    }
  }

  /** Guarded by this. */
  private void append(String op, ClientIdentity c) throws IOException {
    writeFully(out, op + c.encoded() + "\n");
    out.force(false);
  }

  /** The clients recorded now (those with a {@code +} as their last line). */
  synchronized int size() {
    return onDisk.size();
  }

  private static void writeFully(FileChannel c, String s) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      c.write(b);
    }
  }

  /** So that the rename of the compacted file is on the disk too. */
  private static void forceDirectory(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      // Every line was forced as it was written.
    }
  }
}
