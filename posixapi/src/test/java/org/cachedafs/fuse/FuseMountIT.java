package org.cachedafs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount as clients see it: two mounts (two clients) taking turns on one file, errors by name,
 * locks between processes and between clients, and what SIGTERM and SIGKILL leave behind. Each test
 * has a real server and real mount processes.
 */
class FuseMountIT {
  @TempDir Path tmp;

  private DafsServer server(Path export) throws IOException {
    return DafsServer.start(ServerOptions.of(Files.createDirectories(export)));
  }

  /**
   * Six turns, alternating between two mounts of one export: each writes 300 KiB at a new place in the
   * file, on odd turns still holding the file open while the other reads (so the server recalls the
   * writer's delegation and its cache writes back); the other then sees every byte and the new size.
   */
  @Test
  void twoMountsTakingTurnsEachSeeTheOthersWrites() throws Exception {
    try (DafsServer server = server(tmp.resolve("export"));
        MountProcess a = MountProcess.start(server.uri(), Files.createDirectories(tmp.resolve("a")));
        MountProcess b = MountProcess.start(server.uri(), Files.createDirectories(tmp.resolve("b")))) {
      Random random = new Random(16);
      byte[] expected = new byte[0];
      for (int turn = 0; turn < 6; turn++) {
        Path writer = (turn % 2 == 0 ? a : b).mountPoint.resolve("shared.bin");
        Path reader = (turn % 2 == 0 ? b : a).mountPoint.resolve("shared.bin");
        byte[] chunk = new byte[300 << 10];
        random.nextBytes(chunk);
        int at = turn * 200_000;
        expected = Arrays.copyOf(expected, Math.max(expected.length, at + chunk.length));
        System.arraycopy(chunk, 0, expected, at, chunk.length);
        FileChannel ch = FileChannel.open(writer, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
          ch.write(ByteBuffer.wrap(chunk), at);
          if (turn % 2 == 1) {
            assertEquals(expected.length, Files.size(reader), "turn " + turn + ": the size, while the writer holds the file open");
            assertArrayEquals(expected, Files.readAllBytes(reader), "turn " + turn + ": the bytes, while the writer holds the file open");
          }
        } finally {
          ch.close();
        }
        assertEquals(expected.length, Files.size(reader), "turn " + turn + ": the size");
        assertArrayEquals(expected, Files.readAllBytes(reader), "turn " + turn + ": the bytes");
      }
      assertArrayEquals(expected, Files.readAllBytes(tmp.resolve("export/shared.bin")), "the server's copy");
    }
  }

  /**
   * The server's errors, by name: a name over 255 bytes (ENAMETOOLONG), a symlink that leaves the
   * export (EACCES) beside one that stays in it (followed), links the protocol cannot make (EPERM),
   * a directory that is not empty (ENOTEMPTY); and a rename over a file, a truncate and a chmod.
   */
  @Test
  void errorsAreTheServersByName() throws Exception {
    Path export = tmp.resolve("export");
    try (DafsServer server = server(export);
        MountProcess m = MountProcess.start(server.uri(), Files.createDirectories(tmp.resolve("mnt")))) {
      Path mnt = m.mountPoint;
      Files.writeString(mnt.resolve("n".repeat(255)), "longest name");
      assertEquals("longest name", Files.readString(export.resolve("n".repeat(255))));
      FileSystemException tooLong = assertThrows(FileSystemException.class, () -> Files.writeString(mnt.resolve("n".repeat(256)), "x"));
      assertEquals("File name too long", tooLong.getReason());

      Files.writeString(export.resolve("inside.txt"), "inside");
      Files.createSymbolicLink(export.resolve("in-link"), Path.of("inside.txt"));
      Files.createSymbolicLink(export.resolve("out-link"), Path.of("/etc/hostname"));
      assertEquals("inside", Files.readString(mnt.resolve("in-link")), "a symlink inside the export is followed");
      assertThrows(AccessDeniedException.class, () -> Files.readAttributes(mnt.resolve("out-link"), "size"));
      assertThrows(AccessDeniedException.class, () -> Files.readString(mnt.resolve("out-link")));

      FileSystemException link = assertThrows(FileSystemException.class, () -> Files.createLink(mnt.resolve("hard"), mnt.resolve("inside.txt")));
      assertEquals("Operation not permitted", link.getReason());
      assertThrows(FileSystemException.class, () -> Files.createSymbolicLink(mnt.resolve("sym"), Path.of("inside.txt")));

      Files.createDirectories(mnt.resolve("dir/sub"));
      assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(mnt.resolve("dir")));

      Files.writeString(mnt.resolve("old"), "old");
      Files.writeString(mnt.resolve("new"), "new contents");
      Files.move(mnt.resolve("new"), mnt.resolve("old"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      assertEquals("new contents", Files.readString(mnt.resolve("old")));
      assertFalse(Files.exists(mnt.resolve("new")));
      Programs.run(mnt, null, 30, List.of("truncate", "-s", "3", "old")).expectSuccess("truncate");
      assertEquals("new", Files.readString(export.resolve("old")));
      Programs.run(mnt, null, 30, List.of("chmod", "600", "old")).expectSuccess("chmod");
      assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(export.resolve("old"))));
    }
  }

  /**
   * fcntl locks, as SQLite takes them: a process holding a write transaction on one mount keeps out
   * another process on the same mount and one on another mount (another client), until it commits.
   */
  @Test
  void sqliteLocksHoldBetweenProcessesAndBetweenClients() throws Exception {
    String sqlite = Programs.require("sqlite3", "sqlite3");
    try (DafsServer server = server(tmp.resolve("export"));
        MountProcess a = MountProcess.start(server.uri(), Files.createDirectories(tmp.resolve("a")));
        MountProcess b = MountProcess.start(server.uri(), Files.createDirectories(tmp.resolve("b")))) {
      Path sql = Files.writeString(tmp.resolve("insert.sql"), ".timeout 0\nINSERT INTO t VALUES (2);\n");
      Programs.run(a.mountPoint, null, 60, List.of(sqlite, "locks.db", "CREATE TABLE t(x); INSERT INTO t VALUES (1);")).expectSuccess("create");
      Process holder = new ProcessBuilder(sqlite, "locks.db").directory(a.mountPoint.toFile()).redirectErrorStream(true).start();
      try (Writer in = new OutputStreamWriter(holder.getOutputStream(), StandardCharsets.UTF_8);
          BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
        in.write("BEGIN EXCLUSIVE;\nINSERT INTO t VALUES (3);\nSELECT 'holding';\n");
        in.flush();
        assertEquals("holding", out.readLine());
        for (MountProcess other : List.of(a, b)) {
          Programs.Result r = Programs.run(other.mountPoint, sql, 60, List.of(sqlite, "locks.db"));
          assertNotEquals(0, r.exit(), "locked out on " + other.mountPoint);
          assertTrue((r.out() + r.err()).contains("database is locked"), r.out() + r.err());
        }
        in.write("COMMIT;\n.quit\n");
        in.flush();
        assertEquals(0, holder.waitFor());
      } finally {
        holder.destroyForcibly();
      }
      Programs.run(b.mountPoint, sql, 60, List.of(sqlite, "locks.db")).expectSuccess("insert once the lock is let go");
      assertEquals("1\n2\n3\n", Programs.run(a.mountPoint, null, 60, List.of(sqlite, "locks.db", "SELECT x FROM t ORDER BY x;")).out());
    }
  }

  /**
   * SIGTERM with a file still open and written: the mount leaves the namespace at once, writes back
   * what its cache holds, and exits 0; the server has every byte.
   */
  @Test
  void sigtermUnmountsAfterWritingBack() throws Exception {
    Path export = tmp.resolve("export");
    try (DafsServer server = server(export);
        MountProcess m = MountProcess.start(server.uri(), Files.createDirectories(tmp.resolve("mnt")))) {
      byte[] data = new byte[1 << 20];
      new Random(15).nextBytes(data);
      FileChannel held = FileChannel.open(m.mountPoint.resolve("held.bin"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        held.write(ByteBuffer.wrap(data));
        m.process.toHandle().destroy(); // SIGTERM (Process.destroy would also close the pipe its last words come through)
        assertEquals(0, m.awaitExit());
        assertFalse(m.mounted(), "unmounted");
        assertTrue(m.laterOutput().contains("unmounted"), m.laterOutput());
      } finally {
        try {
          held.close();
        } catch (IOException e) {
          // ENOTCONN: the mount is gone; its bytes were written back before it went.
        }
      }
      assertArrayEquals(data, Files.readAllBytes(export.resolve("held.bin")));
    }
  }

  /**
   * SIGKILL leaves a dead mount point (ENOTCONN) that {@code fusermount -u} clears; a new mount then
   * serves what the old one had written and closed, once the server has revoked the dead client's
   * delegation at the end of its lease (3 s here, so that the test does not wait the default 30 s).
   */
  @Test
  void aKilledMountLeavesAMountPointThatFusermountClears() throws Exception {
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (DafsServer server = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("export"))).withLease(Duration.ofSeconds(3)))) {
      try (MountProcess m = MountProcess.start(server.uri(), mnt)) {
        Files.writeString(mnt.resolve("kept.txt"), "written and closed");
        m.process.toHandle().destroyForcibly(); // SIGKILL
        m.awaitExit();
        assertTrue(m.mounted(), "the kernel keeps the dead mount");
        FileSystemException dead = assertThrows(FileSystemException.class, () -> Files.readAttributes(mnt.resolve("kept.txt"), "size"));
        assertEquals("Transport endpoint is not connected", dead.getReason());
        assertEquals(0, m.fusermount(false), "fusermount -u clears it");
        assertFalse(m.mounted());
        try (var list = Files.list(mnt)) {
          assertEquals(0, list.count(), "the bare mount point again");
        }
      }
      try (MountProcess again = MountProcess.start(server.uri(), mnt)) {
        assertEquals("written and closed", Files.readString(mnt.resolve("kept.txt")));
        assertEquals(0, again.fusermount(false));
        assertEquals(0, again.awaitExit());
      }
    }
  }
}
