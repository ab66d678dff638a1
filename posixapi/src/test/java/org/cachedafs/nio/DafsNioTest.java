package org.cachedafs.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dafs provider through java.nio only, checked against the same calls on a local directory. */
class DafsNioTest {
  @TempDir Path tmp;
  DafsServer server;
  FileSystem fs;
  Path local;
  Path remote;

  @BeforeEach
  void start() throws IOException {
    server = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("export"))));
    URI uri = URI.create("dafs://127.0.0.1:" + server.address().getPort() + "/");
    fs = FileSystems.newFileSystem(uri, Map.of("cache.size", "16m", "block.size", "64k"));
    local = Files.createDirectories(tmp.resolve("local"));
    remote = fs.getPath("/");
  }

  @AfterEach
  void stop() throws IOException {
    fs.close();
    server.close();
  }

  /**
   * Another client of the same server, in this JVM: a file system of another provider instance, since
   * the installed provider has one file system per server (localhost is 127.0.0.1 to it).
   */
  FileSystem otherClient() throws IOException {
    return new DafsFileSystemProvider().newFileSystem(URI.create("dafs://localhost:" + server.address().getPort() + "/"), Map.of());
  }

  @Test
  void theProviderIsFoundByItsSchemeAndPathOfUriWorks() throws IOException {
    assertInstanceOf(DafsFileSystemProvider.class, fs.provider());
    URI file = URI.create("dafs://127.0.0.1:" + server.address().getPort() + "/dir/file");
    Path p = Path.of(file);
    assertEquals(fs, p.getFileSystem());
    assertEquals("/dir/file", p.toString());
    assertEquals(file, p.toUri());
    assertThrows(java.nio.file.FileSystemAlreadyExistsException.class,
        () -> FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + server.address().getPort() + "/"), Map.of()));
  }

  @Test
  void pathsFollowTheJdksUnixRules() {
    String[][] cases = {{"/a/b/../c/./d"}, {"a/b"}, {"/"}, {"../x/../../y"}, {"a//b/"}, {"/.."}};
    for (String[] c : cases) {
      Path d = fs.getPath(c[0]);
      Path u = Path.of(c[0]);
      assertEquals(u.toString(), d.toString(), c[0]);
      assertEquals(u.normalize().toString(), d.normalize().toString(), "normalize " + c[0]);
      assertEquals(u.isAbsolute(), d.isAbsolute());
      assertEquals(u.getNameCount(), d.getNameCount());
      assertEquals(String.valueOf(u.getFileName()), String.valueOf(d.getFileName()));
      assertEquals(String.valueOf(u.getParent()), String.valueOf(d.getParent()));
      assertEquals(String.valueOf(u.getRoot()), String.valueOf(d.getRoot()));
    }
    assertEquals(Path.of("/a/b").relativize(Path.of("/a/c/d")).toString(), fs.getPath("/a/b").relativize(fs.getPath("/a/c/d")).toString());
    assertEquals(Path.of("a").resolve("b/c").toString(), fs.getPath("a").resolve("b/c").toString());
    assertEquals(Path.of("a").resolve("/x").toString(), fs.getPath("a").resolve("/x").toString());
    assertTrue(fs.getPath("/a/b/c").startsWith(fs.getPath("/a/b")));
    assertTrue(fs.getPath("/a/b/c").endsWith(fs.getPath("b/c")));
    assertEquals("/rel", fs.getPath("rel").toAbsolutePath().toString());
    assertEquals(fs.getPath("/x/y"), fs.getPath("/x").resolve("y"));
  }

  /** Runs the same sequence of Files calls under both roots and compares what it returns. */
  interface Script {
    Object run(Path root) throws IOException;

    /** A call expected to throw. */
    interface Runnable {
      void run() throws IOException;
    }
  }

  void same(Script s) throws IOException {
    assertEquals(String.valueOf(s.run(local)), String.valueOf(s.run(remote)));
  }

  @Test
  void filesOperationsMatchTheLocalFileSystem() throws IOException {
    same(root -> {
      Path f = root.resolve("a.txt");
      Files.writeString(f, "hello dafs");
      Files.writeString(f, " and more", StandardOpenOption.APPEND);
      String content = Files.readString(f);
      Files.createDirectories(root.resolve("d/e"));
      Files.write(root.resolve("d/e/x.bin"), new byte[] {1, 2, 3});
      Files.write(root.resolve("d/y.txt"), List.of("line"));
      Files.copy(f, root.resolve("d/copy.txt"));
      Files.move(root.resolve("d/copy.txt"), root.resolve("d/moved.txt"), StandardCopyOption.ATOMIC_MOVE);
      Set<String> walk;
      try (Stream<Path> w = Files.walk(root)) {
        walk = w.map(p -> root.relativize(p).toString()).collect(Collectors.toCollection(TreeSet::new));
      }
      Set<String> listed;
      try (Stream<Path> l = Files.list(root.resolve("d"))) {
        listed = l.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
      }
      Set<String> globbed = new TreeSet<>();
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(root.resolve("d"), "*.txt")) {
        ds.forEach(p -> globbed.add(p.getFileName().toString()));
      }
      return content + "|" + walk + "|" + listed + "|" + globbed + "|" + Files.size(f) + "|" + Files.isDirectory(root.resolve("d"))
          + "|" + Files.exists(root.resolve("nope")) + "|" + Files.isHidden(root.resolve(".hidden"));
    });
    same(root -> thrown(() -> Files.createFile(root.resolve("a.txt"))));
    same(root -> thrown(() -> Files.delete(root.resolve("d"))));
    same(root -> thrown(() -> Files.delete(root.resolve("missing"))));
    same(root -> thrown(() -> Files.readString(root.resolve("missing"))));
    same(root -> thrown(() -> Files.move(root.resolve("a.txt"), root.resolve("d/y.txt"))));
    same(root -> thrown(() -> Files.createDirectory(root.resolve("d"))));
    same(root -> {
      Files.move(root.resolve("a.txt"), root.resolve("d/y.txt"), StandardCopyOption.REPLACE_EXISTING);
      return Files.readString(root.resolve("d/y.txt")) + Files.exists(root.resolve("a.txt"));
    });
  }

  static String thrown(Script.Runnable r) {
    try {
      r.run();
      return "no exception";
    } catch (IOException e) {
      return e.getClass().getSimpleName();
    }
  }

  @Test
  void channelsAreFileChannelsWithPositionalIoTruncateForceAndTransfers() throws IOException {
    same(root -> {
      Path f = root.resolve("ch.bin");
      try (SeekableByteChannel sbc = Files.newByteChannel(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        assertInstanceOf(FileChannel.class, sbc, "zipfs and others rely on newByteChannel giving a FileChannel");
        FileChannel ch = (FileChannel) sbc;
        ch.write(ByteBuffer.wrap("0123456789".getBytes(StandardCharsets.UTF_8)));
        ch.write(ByteBuffer.wrap("AB".getBytes(StandardCharsets.UTF_8)), 3);
        ByteBuffer b = ByteBuffer.allocate(4);
        int n = ch.read(b, 2);
        long pos = ch.position();
        ch.truncate(8);
        long size = ch.size();
        ch.force(true);
        int eof = ch.read(ByteBuffer.allocate(1), 100);
        ByteBuffer all = ByteBuffer.allocate(8);
        ch.transferTo(0, 8, Channels.newChannel(new java.io.ByteArrayOutputStream() {
          @Override
          public void write(byte[] bytes, int off, int len) {
            all.put(bytes, off, len);
          }
        }));
        ch.transferFrom(Channels.newChannel(new java.io.ByteArrayInputStream("zz".getBytes(StandardCharsets.UTF_8))), 8, 2);
        return n + new String(b.array(), StandardCharsets.UTF_8) + pos + "," + size + "," + eof + ","
            + new String(all.array(), StandardCharsets.UTF_8) + "," + ch.size();
      }
    });
    same(root -> {
      try (OutputStream out = Files.newOutputStream(root.resolve("s.txt"))) {
        out.write("streamed".getBytes(StandardCharsets.UTF_8));
      }
      try (InputStream in = Files.newInputStream(root.resolve("s.txt"))) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    });
  }

  @Test
  void whatLuceneNeeds() throws IOException {
    Path dir = Files.createDirectory(remote.resolve("index"));
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true); // Lucene fsyncs directories on every commit
    }
    Path lockFile = dir.resolve("write.lock");
    Files.createFile(lockFile);
    FileTime created = Files.readAttributes(lockFile, BasicFileAttributes.class).creationTime();
    try (FileChannel c = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock l = c.tryLock();
      assertNotNull(l);
      assertThrows(java.nio.channels.OverlappingFileLockException.class, c::tryLock);
      // Another client (another file system on the same server) cannot take it.
      try (FileSystem other = otherClient();
          FileChannel c2 = FileChannel.open(other.getPath("/index/write.lock"), StandardOpenOption.WRITE)) {
        assertNull(c2.tryLock(), "tryLock is a real lock across clients");
        l.release();
        FileLock l2 = c2.tryLock();
        assertNotNull(l2, "free once released");
        l2.release();
      }
    }
    assertEquals(created, Files.readAttributes(lockFile, BasicFileAttributes.class).creationTime(), "creationTime is stable");
    Files.writeString(dir.resolve("pending_segments_1"), "x");
    Files.move(dir.resolve("pending_segments_1"), dir.resolve("segments_1"), StandardCopyOption.ATOMIC_MOVE);
    assertTrue(Files.exists(dir.resolve("segments_1")));
    try (FileChannel c = FileChannel.open(dir.resolve("segments_1"), StandardOpenOption.READ)) {
      UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> c.map(FileChannel.MapMode.READ_ONLY, 0, 1));
      assertTrue(e.getMessage().contains("NIOFSDirectory"), e.getMessage());
    }
  }

  @Test
  void attributeReadsUnderADelegationSendNothingAndNeverOutliveARename() throws IOException {
    DafsFileSystem d = (DafsFileSystem) fs;
    Path file = Files.createDirectories(remote.resolve("lucene/segment")).resolve("_0.cfs");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[1234]));
      Files.size(file);
      long before = d.session.stats().requestsSent();
      for (int i = 0; i < 1000; i++) {
        assertEquals(1234, Files.size(file));
        assertTrue(Files.exists(file));
        Files.getLastModifiedTime(file);
      }
      assertEquals(before, d.session.stats().requestsSent(), "served from the cache, path and all");
      // Another client renames a directory above the file: the delegation is recalled, the cached path goes.
      try (FileSystem other = otherClient()) {
        Files.move(other.getPath("/lucene/segment"), other.getPath("/lucene/moved"));
      }
      assertFalse(Files.exists(file), "the old path is gone for this client too");
      assertEquals(1234, Files.size(remote.resolve("lucene/moved/_0.cfs")));
    }
  }

  @Test
  void copyingAFileOntoItselfKeepsIt() throws IOException {
    Path f = remote.resolve("self.txt");
    Files.writeString(f, "precious");
    Files.copy(f, f, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(f, remote.resolve("./self.txt"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(f, f);
    assertEquals("precious", Files.readString(f));
  }

  @Test
  void movesAndCopiesBetweenTwoServersGoToTheRightOne() throws IOException {
    try (DafsServer second = DafsServer.start(ServerOptions.of(Files.createDirectories(tmp.resolve("export2"))));
        FileSystem fs2 = FileSystems.newFileSystem(URI.create("dafs://127.0.0.1:" + second.address().getPort() + "/"), Map.of())) {
      Files.writeString(remote.resolve("travel.txt"), "from A");
      Files.copy(remote.resolve("travel.txt"), fs2.getPath("/copied.txt"));
      assertEquals("from A", Files.readString(tmp.resolve("export2/copied.txt")));
      Files.move(remote.resolve("travel.txt"), fs2.getPath("/moved.txt"));
      assertEquals("from A", Files.readString(tmp.resolve("export2/moved.txt")));
      assertFalse(Files.exists(remote.resolve("travel.txt")));
      Files.writeString(remote.resolve("atomic.txt"), "x");
      assertThrows(java.nio.file.AtomicMoveNotSupportedException.class,
          () -> Files.move(remote.resolve("atomic.txt"), fs2.getPath("/a.txt"), StandardCopyOption.ATOMIC_MOVE));
    }
  }

  @Test
  void aRememberedPathNeverAnswersForAFileRenamedAwayByAnotherSession() throws IOException {
    Path a = remote.resolve("a.dat");
    Files.write(a, new byte[10]);
    assertTrue(Files.exists(a)); // resolved (and maybe remembered) here
    try (FileSystem other = otherClient()) {
      Files.move(other.getPath("/a.dat"), other.getPath("/b.dat"));
    }
    try (FileChannel ch = FileChannel.open(remote.resolve("b.dat"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[5]), 10); // this client caches the file again, under a new delegation
      assertFalse(Files.exists(a), "a.dat no longer exists, whatever was remembered about it");
      assertEquals(15, Files.size(remote.resolve("b.dat")));
    }
  }

  @Test
  void concurrentAppendsLoseNothing() throws Exception {
    Path log = remote.resolve("append.log");
    Files.createFile(log);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    java.util.List<java.util.concurrent.Future<?>> all = new java.util.ArrayList<>();
    for (int t = 0; t < 4; t++) {
      all.add(pool.submit(() -> {
        for (int i = 0; i < 200; i++) {
          Files.write(log, new byte[100], StandardOpenOption.APPEND);
        }
        return null;
      }));
    }
    for (var f : all) {
      f.get();
    }
    pool.shutdown();
    assertEquals(4 * 200 * 100, Files.size(log));
  }

  @Test
  void closingALockedChannelReleasesItsLockOnTheServer() throws IOException {
    Path f = remote.resolve("locked.bin");
    Files.createFile(f);
    try (FileChannel keep = FileChannel.open(f, StandardOpenOption.WRITE)) {
      FileChannel holder = FileChannel.open(f, StandardOpenOption.WRITE);
      assertNotNull(holder.tryLock());
      holder.close(); // the file stays open through 'keep'
      try (FileSystem other = otherClient();
          FileChannel c2 = FileChannel.open(other.getPath("/locked.bin"), StandardOpenOption.WRITE)) {
        FileLock l = c2.tryLock();
        assertNotNull(l, "the closed channel's lock is gone for other clients too");
        l.release();
      }
      assertNotNull(keep);
    }
  }

  @Test
  void attributesStoreAndAccess() throws IOException {
    Path f = remote.resolve("attr.txt");
    Files.writeString(f, "abc");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
    PosixFileAttributes a = Files.readAttributes(f, PosixFileAttributes.class);
    assertEquals("rw-r-----", PosixFilePermissions.toString(a.permissions()));
    assertEquals(3, a.size());
    FileTime t = FileTime.fromMillis(1_500_000_000_000L);
    Files.setLastModifiedTime(f, t);
    assertEquals(t, Files.getLastModifiedTime(f));
    assertEquals(3L, Files.getAttribute(f, "size"));
    assertTrue(Files.isSameFile(f, remote.resolve("./attr.txt")));
    assertThrows(NoSuchFileException.class, () -> Files.isSameFile(f, remote.resolve("other")), "as the JDK's own provider");
    Files.writeString(remote.resolve("other"), "abc");
    assertFalse(Files.isSameFile(f, remote.resolve("other")));
    assertTrue(Files.getFileStore(f).getTotalSpace() > 0 && Files.getFileStore(f).getUsableSpace() > 0);
    f.getFileSystem().provider().checkAccess(f, java.nio.file.AccessMode.READ, java.nio.file.AccessMode.WRITE);
    assertThrows(NoSuchFileException.class, () -> f.getFileSystem().provider().checkAccess(remote.resolve("nope")));
  }

  @Test
  void zipfsRunsUnmodifiedOverADafsPath() throws IOException {
    same(root -> {
      Path zip = root.resolve("archive.zip");
      try (FileSystem z = FileSystems.newFileSystem(zip, Map.of("create", "true"))) {
        Files.writeString(z.getPath("/hello.txt"), "hello from zip");
        Files.createDirectories(z.getPath("/dir/sub"));
        Files.write(z.getPath("/dir/sub/data.bin"), new byte[10_000]);
      }
      try (FileSystem z = FileSystems.newFileSystem(zip, Map.of())) {
        Set<String> names;
        try (Stream<Path> w = Files.walk(z.getPath("/"))) {
          names = w.map(Path::toString).collect(Collectors.toCollection(TreeSet::new));
        }
        return Files.readString(z.getPath("/hello.txt")) + "|" + Files.size(z.getPath("/dir/sub/data.bin")) + "|" + names;
      }
    });
    assertTrue(Files.size(remote.resolve("archive.zip")) > 0);
  }
}
