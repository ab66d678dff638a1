package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.DirectoryPage;
import org.cachedafs.client.Node;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FileType;
import org.cachedafs.protocol.FsStats;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every operation against a real server, each checked against the same operation on a local
 * directory: the same results, the same errors, and the same tree afterwards.
 */
class OperationsTest {
  @TempDir Path tmp;
  ServerFixture fixture;
  DafsSession s;
  Path local;

  @BeforeEach
  void start() throws IOException {
    fixture = new ServerFixture(tmp);
    s = fixture.connect();
    local = Files.createDirectories(tmp.resolve("local"));
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  /** The status a local operation failed with, by the server's own mapping, or OK. */
  interface LocalOp {
    void run() throws IOException;
  }

  interface RemoteOp {
    void run() throws IOException;
  }

  static Status localStatus(LocalOp op) {
    try {
      op.run();
      return Status.OK;
    } catch (IOException e) {
      return IoErrors.status(e);
    }
  }

  static Status remoteStatus(RemoteOp op) {
    try {
      op.run();
      return Status.OK;
    } catch (DafsException e) {
      return e.status();
    } catch (IOException e) {
      throw new AssertionError("an untyped IOException escaped the client", e);
    }
  }

  void assertSameTree() throws IOException {
    Map<String, String> want = TreeSnapshot.local(local);
    assertEquals(want, TreeSnapshot.local(fixture.export), "tree on the server's disk");
    assertEquals(want, TreeSnapshot.remote(s), "tree as the client reads it");
  }

  void writeBoth(String name, byte[] data) throws IOException {
    Files.write(local.resolve(name), data);
    OpenFile o = s.open(dir(parentOf(name)), leaf(name), OpenMode.write().create(0644).truncate());
    s.write(o, 0, ByteBuffer.wrap(data));
    s.close(o);
  }

  FileHandle dir(String path) throws IOException {
    return path.isEmpty() ? s.root() : s.lookup(s.root(), path).handle();
  }

  static String parentOf(String p) {
    int i = p.lastIndexOf('/');
    return i < 0 ? "" : p.substring(0, i);
  }

  static String leaf(String p) {
    return p.substring(p.lastIndexOf('/') + 1);
  }

  static void assertSameAttributes(Path localFile, FileAttributes remote) throws IOException {
    Map<String, Object> a = Files.readAttributes(localFile, "unix:*", LinkOption.NOFOLLOW_LINKS);
    assertEquals(((Number) a.get("size")).longValue(), remote.size(), "size");
    assertEquals(((Integer) a.get("mode")) & 0170000, remote.mode() & 0170000, "file type bits");
    assertEquals(Files.isDirectory(localFile, LinkOption.NOFOLLOW_LINKS), remote.isDirectory());
    assertEquals(Files.isRegularFile(localFile, LinkOption.NOFOLLOW_LINKS), remote.isRegularFile());
  }

  @Test
  void aDirectoryReusingTheInodeOfAFileRemovedOutsideTheServerIsADirectory() throws Exception {
    // ext4 hands a freed inode number to the next file created, so a file removed behind the server's
    // back and a directory created after it can share a file key; the server must not take the
    // directory for the old file, renamed.
    for (int attempt = 0; attempt < 50; attempt++) {
      Path f = fixture.export.resolve("f" + attempt);
      Files.write(f, new byte[10]);
      FileHandle old = s.lookup(s.root(), "f" + attempt).handle();
      Object key = Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
      Files.delete(f);
      Path d = Files.createDirectory(fixture.export.resolve("d" + attempt));
      if (!key.equals(Files.readAttributes(d, java.nio.file.attribute.BasicFileAttributes.class).fileKey())) {
        continue;
      }
      Node dir = s.lookup(s.root(), "d" + attempt);
      assertTrue(dir.attributes().isDirectory(), dir.toString());
      s.mkdir(dir.handle(), "inside", 0755);
      assertTrue(Files.isDirectory(d.resolve("inside")));
      assertEquals(Status.STALE, assertThrows(DafsException.class, () -> s.getattr(old)).status());
      return;
    }
    org.junit.jupiter.api.Assumptions.abort("the file system never reused an inode number in 50 tries");
  }

  @Test
  void lookupResolvesPathsAndFailsLikeTheLocalFileSystem() throws IOException {
    Files.createDirectories(local.resolve("a/b"));
    s.mkdir(s.mkdir(s.root(), "a", 0755).handle(), "b", 0755);
    writeBoth("a/b/c.txt", "abc".getBytes(StandardCharsets.UTF_8));

    Node found = s.lookup(s.root(), "a/b/c.txt");
    assertSameAttributes(local.resolve("a/b/c.txt"), found.attributes());
    assertEquals(found.handle(), s.lookup(s.lookup(s.root(), "a").handle(), "b/c.txt").handle(), "one handle per file");
    assertEquals(s.root(), s.lookup(s.root(), "").handle());
    assertEquals(s.root(), s.lookup(s.root(), ".").handle());

    assertEquals(localStatus(() -> Files.readAttributes(local.resolve("a/missing"), "unix:*")),
        remoteStatus(() -> s.lookup(s.root(), "a/missing")));
    assertEquals(Status.NOENT, remoteStatus(() -> s.lookup(s.root(), "a/missing")));
    assertEquals(localStatus(() -> local.resolve("a/b/c.txt/x").toRealPath()),
        remoteStatus(() -> s.lookup(s.root(), "a/b/c.txt/x")));
  }

  @Test
  void getattrAndSetattrMatchLocalChanges() throws IOException {
    writeBoth("f", new byte[1000]);
    FileHandle h = s.lookup(s.root(), "f").handle();
    assertSameAttributes(local.resolve("f"), s.getattr(h));

    // size: shrink, then grow with zeros, as ftruncate(2)
    try (FileChannel ch = FileChannel.open(local.resolve("f"), StandardOpenOption.WRITE)) {
      NamespaceOps.resize(ch, 10);
      NamespaceOps.resize(ch, 5000);
    }
    s.setattr(h, null, SetAttributes.size(10));
    FileAttributes a = s.setattr(h, null, SetAttributes.size(5000));
    assertSameAttributes(local.resolve("f"), a);

    Files.setPosixFilePermissions(local.resolve("f"), PosixFilePermissions.fromString("rw-r-----"));
    a = s.setattr(h, null, SetAttributes.mode(0640));
    assertEquals(0640, a.mode() & 07777);
    assertEquals(((Integer) Files.getAttribute(local.resolve("f"), "unix:mode")) & 07777, a.mode() & 07777);

    long atime = TimeUnit.SECONDS.toNanos(1_600_000_000L) + 123_456_789;
    long mtime = TimeUnit.SECONDS.toNanos(1_500_000_000L) + 987_654_321;
    a = s.setattr(h, null, SetAttributes.times(atime, mtime));
    Files.setLastModifiedTime(local.resolve("f"), FileTime.from(mtime, TimeUnit.NANOSECONDS));
    assertEquals(mtime, a.modifyTimeNanos());
    assertEquals(atime, a.accessTimeNanos());
    assertEquals(Files.getLastModifiedTime(local.resolve("f")).to(TimeUnit.NANOSECONDS), a.modifyTimeNanos());

    FileHandle d = s.mkdir(s.root(), "d", 0755).handle();
    Files.createDirectory(local.resolve("d"));
    assertEquals(Status.ISDIR, remoteStatus(() -> s.setattr(d, null, SetAttributes.size(0))));
    assertSameTree();
  }

  @Test
  void openCloseReadWriteBehaveLikeLocalFiles() throws IOException {
    // open without create on a missing file
    assertEquals(localStatus(() -> FileChannel.open(local.resolve("nope"), StandardOpenOption.READ).close()),
        remoteStatus(() -> s.open(s.root(), "nope", OpenMode.read())));
    // exclusive create of an existing file
    writeBoth("x", "12345".getBytes(StandardCharsets.UTF_8));
    assertEquals(localStatus(() -> FileChannel.open(local.resolve("x"), StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW).close()),
        remoteStatus(() -> s.open(s.root(), "x", OpenMode.write().create(0644).exclusive())));
    // a directory opened for writing
    Files.createDirectory(local.resolve("dir"));
    s.mkdir(s.root(), "dir", 0755);
    assertEquals(localStatus(() -> FileChannel.open(local.resolve("dir"), StandardOpenOption.WRITE).close()),
        remoteStatus(() -> s.open(s.root(), "dir", OpenMode.write())));
    // a directory opened for reading is allowed, as open(2) allows it; reading from it is ISDIR
    OpenFile dirOpen = s.open(s.root(), "dir", OpenMode.read());
    assertEquals(Status.ISDIR, remoteStatus(() -> s.read(dirOpen, 0, ByteBuffer.allocate(1))));
    s.close(dirOpen);

    // overwrite in the middle, write past the end (a hole), read back everything
    OpenFile o = s.open(s.root(), "x", OpenMode.readWrite());
    s.write(o, 2, ByteBuffer.wrap("ab".getBytes(StandardCharsets.UTF_8)));
    s.write(o, 10, ByteBuffer.wrap("z".getBytes(StandardCharsets.UTF_8)));
    try (FileChannel ch = FileChannel.open(local.resolve("x"), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("ab".getBytes(StandardCharsets.UTF_8)), 2);
      ch.write(ByteBuffer.wrap("z".getBytes(StandardCharsets.UTF_8)), 10);
    }
    ByteBuffer got = ByteBuffer.allocate(100);
    assertEquals(11, s.read(o, 0, got));
    assertArrayEquals(Files.readAllBytes(local.resolve("x")), java.util.Arrays.copyOf(got.array(), 11));
    // a read at or past EOF returns 0
    assertEquals(0, s.read(o, 11, ByteBuffer.allocate(10)));
    assertEquals(0, s.read(o, 1_000_000, ByteBuffer.allocate(10)));
    s.close(o);
    // using a closed open is BAD_STATEID, like a closed fd
    assertEquals(Status.BAD_STATEID, remoteStatus(() -> s.read(o, 0, ByteBuffer.allocate(1))));
    assertEquals(Status.BAD_STATEID, remoteStatus(() -> s.close(o)));

    // access modes are enforced
    OpenFile ro = s.open(s.root(), "x", OpenMode.read());
    assertEquals(Status.ACCES, remoteStatus(() -> s.write(ro, 0, ByteBuffer.wrap(new byte[1]))));
    s.close(ro);
    OpenFile wo = s.open(s.root(), "x", OpenMode.write());
    assertEquals(Status.ACCES, remoteStatus(() -> s.read(wo, 0, ByteBuffer.allocate(1))));
    s.close(wo);

    // truncate on open
    OpenFile t = s.open(s.root(), "x", OpenMode.write().truncate());
    assertEquals(0, t.attributes().size());
    s.close(t);
    Files.write(local.resolve("x"), new byte[0]);
    assertSameTree();
  }

  @Test
  void shareReservationsDenyConflictingOpens() throws IOException {
    writeBoth("shared", new byte[3]);
    DafsSession other = fixture.connect();
    OpenFile reader = s.open(s.root(), "shared", OpenMode.read().deny(2));
    assertEquals(Status.SHARE_DENIED, remoteStatus(() -> other.open(other.root(), "shared", OpenMode.write())));
    OpenFile second = other.open(other.root(), "shared", OpenMode.read());
    other.close(second);
    s.close(reader);
    other.close(other.open(other.root(), "shared", OpenMode.write()));
  }

  @Test
  void removeKeepsOpenFilesReadableAndMakesHandlesStale() throws IOException {
    writeBoth("gone", "still here".getBytes(StandardCharsets.UTF_8));
    FileHandle h = s.lookup(s.root(), "gone").handle();
    OpenFile o = s.open(s.root(), "gone", OpenMode.read());
    s.remove(s.root(), "gone");
    Files.delete(local.resolve("gone"));
    ByteBuffer b = ByteBuffer.allocate(32);
    assertEquals(10, s.read(o, 0, b), "unlink(2): an open file stays readable");
    assertEquals(10, s.getattr(h).size(), "fstat of an unlinked open file");
    s.close(o);
    assertEquals(Status.STALE, remoteStatus(() -> s.getattr(h)));
    assertEquals(Status.NOENT, remoteStatus(() -> s.remove(s.root(), "gone")));
    assertSameTree();
  }

  @Test
  void createMkdirRemoveRmdirRenameMatchTheLocalFileSystem() throws IOException {
    // create, exclusive and not
    s.create(s.root(), "c1", 0644, true);
    Files.createFile(local.resolve("c1"));
    assertEquals(localStatus(() -> Files.createFile(local.resolve("c1"))), remoteStatus(() -> s.create(s.root(), "c1", 0644, true)));
    assertEquals(Status.OK, remoteStatus(() -> s.create(s.root(), "c1", 0644, false)));

    // mkdir, twice
    s.mkdir(s.root(), "d1", 0755);
    Files.createDirectory(local.resolve("d1"));
    assertEquals(localStatus(() -> Files.createDirectory(local.resolve("d1"))), remoteStatus(() -> s.mkdir(s.root(), "d1", 0755)));
    FileHandle d1 = s.lookup(s.root(), "d1").handle();
    writeBoth("d1/inner", "inner".getBytes(StandardCharsets.UTF_8));

    // rmdir of a non-empty directory, of a file; remove of a directory
    assertEquals(localStatus(() -> Files.delete(local.resolve("d1"))), remoteStatus(() -> s.rmdir(s.root(), "d1")));
    assertEquals(Status.NOTEMPTY, remoteStatus(() -> s.rmdir(s.root(), "d1")));
    assertEquals(Status.NOTDIR, remoteStatus(() -> s.rmdir(s.root(), "c1")));
    assertEquals(Status.ISDIR, remoteStatus(() -> s.remove(s.root(), "d1")), "unlink(2) of a directory is EISDIR");
    assertEquals(Status.INVAL, remoteStatus(() -> s.rmdir(s.root(), ".")));

    // rename a file over another file: atomic replace
    writeBoth("r1", "one".getBytes(StandardCharsets.UTF_8));
    writeBoth("r2", "two".getBytes(StandardCharsets.UTF_8));
    FileHandle r1 = s.lookup(s.root(), "r1").handle();
    FileHandle r2 = s.lookup(s.root(), "r2").handle();
    s.rename(s.root(), "r1", s.root(), "r2");
    Files.move(local.resolve("r1"), local.resolve("r2"), StandardCopyOption.ATOMIC_MOVE);
    assertEquals(r1, s.lookup(s.root(), "r2").handle(), "a handle survives rename");
    assertEquals(3, s.getattr(r1).size());
    assertEquals(Status.STALE, remoteStatus(() -> s.getattr(r2)), "the replaced file's handle is stale");

    // rename a directory: handles below it follow
    FileHandle inner = s.lookup(s.root(), "d1/inner").handle();
    s.rename(s.root(), "d1", s.root(), "d2");
    Files.move(local.resolve("d1"), local.resolve("d2"));
    assertEquals(5, s.getattr(inner).size());
    assertEquals(inner, s.lookup(s.root(), "d2/inner").handle());
    assertEquals(d1, s.lookup(s.root(), "d2").handle());

    // rename errors: file over directory, directory over file, directory into itself, missing source
    Files.createDirectory(local.resolve("d3"));
    s.mkdir(s.root(), "d3", 0755);
    assertEquals(Status.ISDIR, remoteStatus(() -> s.rename(s.root(), "r2", s.root(), "d3")));
    assertEquals(Status.NOTDIR, remoteStatus(() -> s.rename(s.root(), "d3", s.root(), "r2")));
    assertEquals(Status.INVAL, remoteStatus(() -> s.rename(s.root(), "d2", d1, "sub")));
    assertEquals(localStatus(() -> Files.move(local.resolve("none"), local.resolve("x"))),
        remoteStatus(() -> s.rename(s.root(), "none", s.root(), "x")));
    // a directory onto a non-empty directory
    assertEquals(Status.NOTEMPTY, remoteStatus(() -> s.rename(s.root(), "d3", s.root(), "d2")));
    // a directory onto an empty directory replaces it
    s.mkdir(s.root(), "d4", 0755);
    Files.createDirectory(local.resolve("d4"));
    s.rename(s.root(), "d4", s.root(), "d3");
    Files.move(local.resolve("d4"), local.resolve("d3"), StandardCopyOption.ATOMIC_MOVE);

    // remove and rmdir
    s.remove(s.root(), "c1");
    Files.delete(local.resolve("c1"));
    s.rmdir(s.root(), "d3");
    Files.delete(local.resolve("d3"));
    assertSameTree();
  }

  @Test
  void readdirPagesEveryEntryExactlyOnceEvenWhileTheDirectoryChanges() throws IOException {
    FileHandle d = s.mkdir(s.root(), "many", 0755).handle();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < 1500; i++) {
      String n = "entry-" + i + (i % 7 == 0 ? "-é" : "");
      Files.createFile(fixture.export.resolve("many").resolve(n));
      names.add(n);
    }
    List<String> seen = new ArrayList<>();
    long cookie = 0;
    int pages = 0;
    Set<String> removedDuring = new HashSet<>();
    while (true) {
      DirectoryPage page = s.readdir(d, cookie, 100);
      pages++;
      for (DirEntry e : page.entries()) {
        seen.add(e.name());
        assertEquals(FileType.REGULAR, e.attributes().type());
      }
      // Change the directory between pages: add new names and remove some not yet seen.
      if (pages == 3) {
        for (int i = 0; i < 50; i++) {
          Files.createFile(fixture.export.resolve("many").resolve("added-" + i));
        }
        for (String n : names) {
          if (!seen.contains(n) && removedDuring.size() < 40) {
            removedDuring.add(n);
          }
        }
        for (String n : removedDuring) {
          Files.delete(fixture.export.resolve("many").resolve(n));
        }
      }
      if (page.eof()) {
        break;
      }
      cookie = page.nextCookie();
    }
    assertTrue(pages >= 15, "paged: " + pages);
    assertEquals(seen.size(), new HashSet<>(seen).size(), "no entry twice");
    Set<String> stayed = new HashSet<>(names);
    stayed.removeAll(removedDuring);
    assertTrue(new HashSet<>(seen).containsAll(stayed), "every entry that stayed was listed");
    for (String n : removedDuring) {
      assertFalse(seen.contains(n), "a name removed before its page was reached is not listed: " + n);
    }
    assertEquals(Status.BAD_COOKIE, remoteStatus(() -> s.readdir(d, -5, 10)));
    assertEquals(Status.NOTDIR, remoteStatus(() -> s.readdir(s.create(s.root(), "plain", 0644, false).handle(), 0, 10)));
  }

  @Test
  void fsyncAndStatfs() throws IOException {
    writeBoth("durable", new byte[4096]);
    FileHandle h = s.lookup(s.root(), "durable").handle();
    s.fsync(h, false);
    s.fsync(h, true);
    s.fsync(s.root(), false); // a directory, as Lucene fsyncs them
    FsStats st = s.statfs(s.root());
    java.nio.file.FileStore store = Files.getFileStore(local);
    assertEquals(store.getTotalSpace(), st.totalBytes());
    assertTrue(st.freeBytes() > 0 && st.usableBytes() > 0);
    assertTrue(st.maxInline() > 0 && st.maxDirect() >= st.maxInline());
  }

  @Test
  void byteRangeLocksConflictAcrossSessionsOnly() throws IOException {
    writeBoth("locked", new byte[100]);
    DafsSession other = fixture.connect();
    OpenFile mine = s.open(s.root(), "locked", OpenMode.readWrite());
    OpenFile theirs = other.open(other.root(), "locked", OpenMode.readWrite());
    s.lock(mine, new LockRange(0, 50, true));
    s.lock(mine, new LockRange(10, 10, false)); // my own lock over my own range is replaced, not refused
    assertEquals(Status.DENIED, remoteStatus(() -> other.lock(theirs, new LockRange(40, 20, false))));
    other.lock(theirs, new LockRange(50, 0, true)); // to EOF, after my range
    Optional<LockRange> conflict = other.testLock(theirs.handle(), new LockRange(0, 5, false));
    assertTrue(conflict.isPresent());
    assertEquals(0, conflict.get().offset());
    assertTrue(s.testLock(mine.handle(), new LockRange(0, 5, true)).isEmpty(), "own locks never conflict");
    // shared locks coexist
    s.unlock(mine, new LockRange(0, 50, false));
    s.lock(mine, new LockRange(0, 10, false));
    other.lock(theirs, new LockRange(0, 10, false));
    assertEquals(Status.DENIED, remoteStatus(() -> other.lock(theirs, new LockRange(0, 10, true))));
    // closing the last open releases the session's locks
    s.close(mine);
    other.lock(theirs, new LockRange(0, 10, true));
    // a read-only open cannot take a write lock
    OpenFile ro = s.open(s.root(), "locked", OpenMode.read());
    assertEquals(Status.ACCES, remoteStatus(() -> s.lock(ro, new LockRange(90, 1, true))));
    other.close(theirs);
  }

  @Test
  void delegationReturnOfUnknownDelegationAndRenew() throws IOException {
    s.renew();
    assertEquals(Status.BAD_STATEID, remoteStatus(() -> s.returnDelegation(42, s.root())));
  }
}
