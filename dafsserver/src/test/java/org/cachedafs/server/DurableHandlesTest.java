package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File handles that outlive the server (docs/protocol.md §2.1): built from the kernel's file handle,
 * sealed, resolved with open_by_handle_at and checked to lead inside the export; and the fallback to
 * handles held in memory where the kernel refuses.
 *
 * <p>The durable tests need a file system that makes handles and a process allowed to open by them
 * (CAP_DAC_READ_SEARCH): they use the temporary directory's file system when it does (ext4 here), else
 * a tmpfs mounted for the test, and print which; where neither can, they are skipped saying why (the
 * fallback test then covers what runs). Restarts here are in-process: a server closed and a new one
 * started on the same export and state directory.
 */
class DurableHandlesTest {
  @TempDir Path tmp;
  /** Where the export and the "outside" directory live: the same file system, one that makes handles. */
  private Path base;
  private Tmpfs mounted;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    if (mounted != null) {
      mounted.close();
    }
  }

  static Status statusOf(org.junit.jupiter.api.function.Executable e) {
    return assertThrows(DafsException.class, e).status();
  }

  /** An export on a file system where the kernel makes handles, or the test is skipped saying why. */
  private Path capableExport() throws Exception {
    base = tmp;
    Path export = Files.createDirectories(base.resolve("export"));
    String why;
    try (DafsServer probe = start(export)) {
      if (probe.stats().handles().durable()) {
        System.out.println("DurableHandlesTest: kernel handles on " + Files.getFileStore(export).type() + " (the temporary directory)");
        return export;
      }
      why = probe.stats().handles().volatileReason();
    }
    mounted = Tmpfs.mount(tmp.resolve("tmpfs"), "16m");
    base = mounted.dir;
    export = Files.createDirectories(base.resolve("export"));
    try (DafsServer probe = start(export)) {
      if (probe.stats().handles().durable()) {
        System.out.println("DurableHandlesTest: kernel handles on a tmpfs mounted for the test (the temporary directory's file system refused: " + why + ")");
        return export;
      }
      why = probe.stats().handles().volatileReason();
    }
    Assumptions.abort("the kernel makes no file handles here, so only the fallback is tested: " + why);
    return null;
  }

  private DafsServer start(Path export) throws IOException {
    return DafsServer.start(ServerOptions.of(export).withStateDir(tmp.resolve("state")));
  }

  private DafsServer server(Path export) throws IOException {
    DafsServer s = start(export);
    open.add(s);
    return s;
  }

  private DafsSession connect(DafsServer server) throws IOException {
    DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
    open.add(s);
    return s;
  }

  private static void write(DafsSession s, FileHandle dir, String name, String text) throws DafsException {
    OpenFile f = s.open(dir, name, OpenMode.readWrite().create(0644));
    s.write(f, 0, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    s.close(f);
  }

  private static String read(DafsSession s, FileHandle dir, String name) throws DafsException {
    OpenFile f = s.open(dir, name, OpenMode.read());
    ByteBuffer b = ByteBuffer.allocate(256);
    s.read(f, 0, b);
    s.close(f);
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
  }

  /** The same bytes, as a client that kept only the bytes would send them. */
  private static FileHandle raw(FileHandle h) {
    return new FileHandle(h.bytes());
  }

  @Test
  void aHandleFromBeforeARestartStillWorksAfterIt() throws Exception {
    Path export = capableExport();
    DafsServer first = server(export);
    DafsSession s = connect(first);
    FileHandle root = s.root();
    FileHandle dir = s.mkdir(root, "d", 0755).handle();
    write(s, dir, "f", "before the restart");
    FileHandle file = s.lookup(dir, "f").handle();
    FileHandle moved = s.create(root, "moved-while-down", 0644, false).handle();
    assertEquals(0, first.stats().handles().revived(), "every handle used so far was given out by this server");
    s.close();
    first.close();
    // While no server runs: a local rename into another directory. A handle names the file, not its path.
    Files.move(export.resolve("moved-while-down"), export.resolve("d/renamed"));

    DafsServer second = server(export);
    DafsSession t = connect(second);
    assertEquals(root, t.root(), "the root has the same handle at every start");
    assertEquals("before the restart".length(), t.getattr(raw(file)).size());
    assertEquals("before the restart", read(t, raw(dir), "f"), "an old directory handle opens its files");
    assertEquals(file, t.lookup(raw(dir), "f").handle(), "a lookup gives the handle the client already holds");
    assertTrue(t.getattr(raw(moved)).isRegularFile(), "a file renamed while the server was down");
    assertEquals(moved, t.lookup(root, "d/renamed").handle());
    write(t, raw(dir), "g", "after");
    assertTrue(Files.exists(export.resolve("d/g")));
    // The file's and the renamed file's; the directory's node came with the file's, found by name on the way.
    assertEquals(2, second.stats().handles().revived(), "the old handles were found through the kernel: " + second.stats().handles());
  }

  @Test
  void aHandleFollowsItsFileThroughALocalRenameWhileTheServerRuns() throws Exception {
    Path export = capableExport();
    DafsSession s = connect(server(export));
    FileHandle h = s.create(s.root(), "a", 0644, false).handle();
    s.mkdir(s.root(), "sub", 0755);
    Files.move(export.resolve("a"), export.resolve("sub/b"), StandardCopyOption.ATOMIC_MOVE);
    assertTrue(s.getattr(h).isRegularFile());
    assertEquals(h, s.lookup(s.root(), "sub/b").handle(), "one handle per file, wherever it went");
    assertEquals(Status.NOENT, statusOf(() -> s.lookup(s.root(), "a")));
  }

  /** A handle with any one byte changed is refused: in its format byte, its type, its kernel bytes, its seal. */
  @Test
  void aForgedOrAlteredHandleIsStale() throws Exception {
    Path export = capableExport();
    DafsServer server = server(export);
    DafsSession s = connect(server);
    write(s, s.root(), "f", "x");
    FileHandle h = s.lookup(s.root(), "f").handle();
    byte[] b = h.bytes();
    assertEquals(KernelHandles.FORMAT, b[0]);
    for (int i = 0; i < b.length; i++) {
      byte[] altered = b.clone();
      altered[i] ^= 0x01;
      FileHandle a = new FileHandle(altered);
      assertEquals(Status.STALE, statusOf(() -> s.getattr(a)), "byte " + i + " of " + b.length + " flipped");
      assertEquals(Status.STALE, statusOf(() -> s.lookup(a, "f")), "byte " + i + " flipped, as a directory");
    }
    assertEquals(Status.STALE, statusOf(() -> s.getattr(new FileHandle(Arrays.copyOf(b, b.length - 1)))), "one byte short");
    assertEquals(Status.STALE, statusOf(() -> s.getattr(new FileHandle(Arrays.copyOf(b, b.length + 1)))), "one byte more");
    // Every flip but the format byte's keeps the durable form, so its seal was checked and failed.
    assertEquals(2L * (b.length - 1) + 2, server.stats().handles().forged(), server.stats().handles().toString());
    assertEquals("x", read(s, s.root(), "f"), "the real handle still works");
    assertEquals(1, s.getattr(h).size());
  }

  @Test
  void aHandleSealedUnderAnotherKeyIsStale() throws Exception {
    Path export = capableExport();
    FileHandle h;
    try (DafsServer first = start(export); DafsSession s = DafsClient.connect(first.uri(), ClientOptions.defaults())) {
      h = s.create(s.root(), "f", 0644, false).handle();
    }
    DafsServer other = DafsServer.start(ServerOptions.of(export).withStateDir(tmp.resolve("another-state")));
    open.add(other);
    DafsSession t = connect(other);
    assertEquals(Status.STALE, statusOf(() -> t.getattr(raw(h))), "a key of its own: the old seal does not verify");
    assertNotEquals(h, t.lookup(t.root(), "f").handle());
  }

  @Test
  void aHandleToAFileRemovedMeanwhileIsStale() throws Exception {
    Path export = capableExport();
    FileHandle whileDown;
    FileHandle whileUp;
    FileHandle throughServer;
    DafsServer first = server(export);
    DafsSession s = connect(first);
    whileDown = s.create(s.root(), "removed-while-down", 0644, false).handle();
    whileUp = s.create(s.root(), "removed-behind-its-back", 0644, false).handle();
    throughServer = s.create(s.root(), "removed-through-it", 0644, false).handle();
    s.remove(s.root(), "removed-through-it");
    assertEquals(Status.STALE, statusOf(() -> s.getattr(throughServer)));
    Files.delete(export.resolve("removed-behind-its-back"));
    assertEquals(Status.STALE, statusOf(() -> s.getattr(whileUp)));
    s.close();
    first.close();
    Files.delete(export.resolve("removed-while-down"));
    // A new file may well take the removed one's inode; its generation number differs.
    Files.writeString(export.resolve("new"), "new");

    DafsSession t = connect(server(export));
    for (FileHandle h : List.of(whileDown, whileUp, throughServer)) {
      assertEquals(Status.STALE, statusOf(() -> t.getattr(raw(h))), h.toString());
      assertEquals(Status.STALE, statusOf(() -> t.open(raw(h), "x", OpenMode.read())), "as a directory: " + h);
    }
    assertEquals("new", read(t, t.root(), "new"));
  }

  /**
   * A file removed behind the server's back whose inode number the file system gives to the next file
   * (ext4 at once): the new file, under another name or the same one, is another file to the kernel
   * (its generation differs, so does its handle), and must get a node and a handle of its own, not
   * the removed file's, which would be stale the moment it was handed out.
   */
  @Test
  void aNewFileWithARemovedFilesInodeNumberGetsAHandleOfItsOwn() throws Exception {
    Path export = capableExport();
    DafsSession s = connect(server(export));
    Path spare = Files.createDirectories(export.resolve("spare")); // made first: a new directory would take the freed number
    for (String again : List.of("other-name", "same-name")) {
      String first = again.equals("same-name") ? "same-name" : "first-name";
      write(s, s.root(), first, "old file");
      Object key = Files.readAttributes(export.resolve(first), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
      Files.delete(export.resolve(first)); // outside the server
      Path reused = InodeNumberReuseTest.createWithKey(spare, "s" + again.length(), key);
      Files.move(reused, export.resolve(again));
      Files.writeString(export.resolve(again), "new file");
      OpenFile f = s.open(s.root(), again, OpenMode.readWrite());
      s.write(f, 0, ByteBuffer.wrap("NEW".getBytes(StandardCharsets.UTF_8)));
      s.fsync(f.handle(), false);
      s.close(f);
      assertEquals("NEW file", read(s, s.root(), again), again);
      Files.delete(export.resolve(again));
    }
  }

  @Test
  void aFileMovedOutOfTheExportIsStale() throws Exception {
    Path export = capableExport();
    Path outside = Files.createDirectories(base.resolve("outside"));
    DafsServer first = server(export);
    DafsSession s = connect(first);
    FileHandle whileUp = s.create(s.root(), "leaves-while-up", 0644, false).handle();
    FileHandle whileDown = s.create(s.root(), "leaves-while-down", 0644, false).handle();
    FileHandle dir = s.mkdir(s.root(), "dir", 0755).handle();
    write(s, dir, "inner", "secret after the move");
    FileHandle inner = s.lookup(dir, "inner").handle();

    Files.move(export.resolve("leaves-while-up"), outside.resolve("left"), StandardCopyOption.ATOMIC_MOVE);
    assertEquals(Status.STALE, statusOf(() -> s.getattr(whileUp)), "moved out while the server knew it");
    // A local user moves a directory out and leaves a symlink to it in its place: the path still
    // reaches the same files, but the kernel says they are outside the export.
    Files.move(export.resolve("dir"), outside.resolve("dir"), StandardCopyOption.ATOMIC_MOVE);
    Files.createSymbolicLink(export.resolve("dir"), outside.resolve("dir"));
    assertEquals(Status.STALE, statusOf(() -> s.getattr(inner)), "a file whose directory was swapped for a symlink out");
    assertEquals(Status.STALE, statusOf(() -> s.open(dir, "inner", OpenMode.read())));
    s.close();
    first.close();
    Files.move(export.resolve("leaves-while-down"), outside.resolve("left-too"), StandardCopyOption.ATOMIC_MOVE);

    DafsSession t = connect(server(export));
    for (FileHandle h : List.of(whileUp, whileDown, dir, inner)) {
      assertEquals(Status.STALE, statusOf(() -> t.getattr(raw(h))), h.toString());
    }
    assertEquals(Status.ACCES, statusOf(() -> t.lookup(t.root(), "dir/inner")), "and by path the symlink leads out, refused");
  }

  @Test
  void theKeyIsMadeOnceOwnerOnlyInTheStateDirectory() throws Exception {
    Path export = capableExport();
    Path state = tmp.resolve("state");
    Path key = state.resolve(HandleKey.FILE_NAME);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    assertEquals(HandleKey.BYTES, Files.size(key));
    byte[] before = Files.readAllBytes(key);
    try (DafsServer again = start(export)) {
      assertEquals(state.toRealPath(), again.stateDirectory());
      assertArrayEquals(before, Files.readAllBytes(key), "the same key at the next start");
    }
    try (var names = Files.list(state)) {
      assertEquals(Set.of(key.getFileName(), Path.of(ClientRecords.FILE_NAME)), names.map(Path::getFileName).collect(Collectors.toSet()),
          "the key and the client records, no temporary files left");
    }
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve(ClientRecords.FILE_NAME))));
    // A state directory the server makes is its user's alone.
    Path fresh = tmp.resolve("fresh/state");
    try (DafsServer s = DafsServer.start(ServerOptions.of(export).withStateDir(fresh))) {
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
      assertTrue(Files.exists(fresh.resolve(HandleKey.FILE_NAME)));
    }
  }

  @Test
  void aDamagedKeyIsRefusedWithAClearMessage() throws Exception {
    Path export = capableExport();
    Path key = tmp.resolve("state").resolve(HandleKey.FILE_NAME);
    Files.write(key, new byte[5]);
    IOException e = assertThrows(IOException.class, () -> start(export));
    assertTrue(e.getMessage().contains("has 5 bytes, not 32"), e.getMessage());
    Files.delete(key);
    Files.createDirectory(key);
    e = assertThrows(IOException.class, () -> start(export));
    assertTrue(e.getMessage().contains("is not a regular file"), e.getMessage());
    // (An unreadable key cannot be made here: the tests run as root, who reads any file.)
  }

  @Test
  void theStateDirectoryIsOutsideTheExportAndTheSameAtEveryStart() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export")).toRealPath();
    Path a = StateDirectory.defaultFor(export, Map.of("XDG_STATE_HOME", "/var/state"), "/home/u");
    assertEquals(a, StateDirectory.defaultFor(export, Map.of("XDG_STATE_HOME", "/var/state"), "/home/u"));
    assertTrue(a.startsWith(Path.of("/var/state/cachedafs")), a.toString());
    assertTrue(a.getFileName().toString().startsWith("export-"), a.toString());
    Path other = StateDirectory.defaultFor(tmp.resolve("elsewhere/export"), Map.of("XDG_STATE_HOME", "/var/state"), "/home/u");
    assertNotEquals(a, other, "two exports of the same name do not share one");
    assertTrue(StateDirectory.defaultFor(export, Map.of("XDG_STATE_HOME", "relative"), "/home/u").startsWith(Path.of("/home/u/.local/state/cachedafs")),
        "a relative XDG_STATE_HOME is ignored, as the spec says");
    assertTrue(StateDirectory.defaultFor(export, Map.of(), "/home/u").startsWith(Path.of("/home/u/.local/state/cachedafs")));

    try (DafsServer s = DafsServer.start(ServerOptions.of(export))) {
      assertEquals(StateDirectory.defaultFor(export).toRealPath(), s.stateDirectory(), "the default when none is given");
      assertFalse(s.stateDirectory().startsWith(export));
    }
    IOException e = assertThrows(IOException.class, () -> DafsServer.start(ServerOptions.of(export).withStateDir(export.resolve(".state"))));
    assertTrue(e.getMessage().contains("inside the export"), e.getMessage());
  }

  /**
   * After a reboot (here: the file system unmounted and mounted again, so the kernel's caches are
   * cold) a directory's handle still resolves, because the kernel reconnects a directory to the root
   * through its parents; a regular file's does not until its name is looked up again, because the
   * kernel's handle says nothing of where the file is (docs/operations.md, "State directory and file
   * handles"). Needs mkfs.ext4 and a loop mount, else skipped.
   */
  @Test
  void afterTheKernelForgetsTheNamesDirectoriesResolveAndFilesNeedALookup() throws Exception {
    Path image = tmp.resolve("fs.img");
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (var f = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
      f.truncate(0).write(ByteBuffer.allocate(1), (16 << 20) - 1);
    }
    String made = run("mkfs.ext4", "-q", "-F", image.toString());
    Assumptions.assumeTrue(made == null, "no ext4 image could be made: " + made);
    String mountedOnce = run("mount", "-o", "loop", image.toString(), mnt.toString());
    Assumptions.assumeTrue(mountedOnce == null, "the ext4 image could not be loop-mounted: " + mountedOnce);
    try {
      Path export = Files.createDirectories(mnt.resolve("export"));
      FileHandle dir;
      FileHandle file;
      try (DafsServer first = start(export); DafsSession s = DafsClient.connect(first.uri(), ClientOptions.defaults())) {
        assertTrue(first.stats().handles().durable(), first.stats().handles().volatileReason());
        dir = s.mkdir(s.mkdir(s.root(), "a", 0755).handle(), "b", 0755).handle();
        write(s, dir, "f", "on disk");
        file = s.lookup(dir, "f").handle();
      }
      assertEquals(null, run("umount", mnt.toString()));
      assertEquals(null, run("mount", "-o", "loop", image.toString(), mnt.toString()));
      try (DafsServer second = start(export); DafsSession t = DafsClient.connect(second.uri(), ClientOptions.defaults())) {
        assertTrue(t.getattr(raw(dir)).isDirectory(), "a directory is found with cold caches");
        DafsException e = assertThrows(DafsException.class, () -> t.getattr(raw(file)));
        assertEquals(Status.STALE, e.status(), "the kernel knows the file by no name yet: " + e.getMessage());
        assertEquals(file, t.lookup(raw(dir), "f").handle(), "its lookup gives the same handle");
        assertEquals("on disk".length(), t.getattr(raw(file)).size(), "which works from then on");
      }
    } finally {
      run("umount", "-l", mnt.toString());
    }
  }

  /** Runs a command; null if it succeeded, else what it printed. */
  private static String run(String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return e.getMessage();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    return p.waitFor() == 0 ? null : command[0] + " exited " + p.exitValue() + ": " + out;
  }

  /**
   * A file system without handles (ramfs: EOPNOTSUPP): the server says why, hands out random handles
   * that work while it runs and go stale at a restart, and makes no key.
   */
  @Test
  void whereTheKernelRefusesHandlesAreHeldInMemoryAndSaySo() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("ramfs"));
    String mountedRamfs = run("mount", "-t", "ramfs", "ramfs", dir.toString());
    Assumptions.assumeTrue(mountedRamfs == null, "a ramfs (a file system without file handles) could not be mounted: " + mountedRamfs);
    try {
      Path export = Files.createDirectories(dir.resolve("export"));
      FileHandle h;
      try (DafsServer first = start(export); DafsSession s = DafsClient.connect(first.uri(), ClientOptions.defaults())) {
        ServerStats.Handles mode = first.stats().handles();
        assertFalse(mode.durable());
        // errno 95, which jnr-constants may name ENOTSUP or EOPNOTSUPP
        assertTrue(mode.volatileReason().contains("NOTSUP") && mode.volatileReason().contains("ramfs"), mode.volatileReason());
        write(s, s.root(), "f", "in memory");
        h = s.lookup(s.root(), "f").handle();
        assertEquals(1 + HandleTable.VOLATILE_BYTES, h.bytes().length);
        assertEquals(HandleTable.VOLATILE_FORMAT, h.bytes()[0]);
        assertEquals("in memory".length(), s.getattr(h).size());
        assertEquals(h, s.lookup(s.root(), "f").handle());
        byte[] forged = h.bytes();
        forged[5] ^= 1;
        assertEquals(Status.STALE, statusOf(() -> s.getattr(new FileHandle(forged))));
      }
      assertFalse(Files.exists(tmp.resolve("state").resolve(HandleKey.FILE_NAME)), "no key where none is used");
      try (DafsServer second = start(export); DafsSession t = DafsClient.connect(second.uri(), ClientOptions.defaults())) {
        assertEquals(Status.STALE, statusOf(() -> t.getattr(raw(h))), "a handle held in memory dies with its server");
        assertEquals("in memory", read(t, t.root(), "f"));
      }
      System.out.println("DurableHandlesTest: the fallback ran on a ramfs (no file handles: EOPNOTSUPP)");
    } finally {
      run("umount", "-l", dir.toString());
    }
  }
}
