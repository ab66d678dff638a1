package org.cachedafs.posix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;
import jnr.constants.platform.Errno;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every facade call on a real server through a DAFS mount, each compared with the same call on a
 * local directory through the pass-through path: the same results, the same errno.
 */
class PosixFacadeTest {
  @TempDir Path tmp;
  DafsServer server;
  DafsSession session;
  CacheManager cache;
  DafsPosix posix;
  String local;
  String mount;

  @BeforeEach
  void start() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    local = Files.createDirectories(tmp.resolve("local")).toString();
    server = DafsServer.start(ServerOptions.of(export));
    session = DafsClient.connect(server.uri(), ClientOptions.defaults());
    cache = CacheManager.create(session, CacheConfig.defaults().withCapacity(16 << 20).withSlabBytes(8 << 20));
    posix = new DafsPosix();
    mount = "/dafs-test-mount-" + System.nanoTime();
    posix.mount(mount, cache);
  }

  @AfterEach
  void stop() {
    posix.close();
    cache.close();
    session.close();
    server.close();
  }

  /** A result and the errno that came with it. */
  record Outcome(Object value, int errno) {}

  /** Runs {@code call} under the local directory and under the mount; both must agree. */
  Outcome both(Function<String, Object> call) {
    Object l = call.apply(local);
    int le = l instanceof Number n && n.longValue() < 0 || l == null ? posix.errno() : 0;
    Object d = call.apply(mount);
    int de = d instanceof Number n && n.longValue() < 0 || d == null ? posix.errno() : 0;
    assertEquals(new Outcome(l, le), new Outcome(d, de), "local vs DAFS");
    return new Outcome(d, de);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  int openBoth(String name, int flags) {
    int a = posix.open(local + "/" + name, flags, 0644);
    int b = posix.open(mount + "/" + name, flags, 0644);
    assertTrue(a >= 0 && b >= 0, "opened " + name + ": " + posix.errno());
    return a * 100000 + b; // both descriptors in one int, for the pairs below
  }

  @Test
  void openCloseAndTheirErrors() {
    assertEquals(Errno.ENOENT.intValue(), both(p -> posix.open(p + "/missing", DafsPosix.O_RDONLY)).errno());
    both(p -> posix.close(posix.open(p + "/f", DafsPosix.O_CREAT | DafsPosix.O_WRONLY, 0644)));
    assertEquals(Errno.EEXIST.intValue(), both(p -> posix.open(p + "/f", DafsPosix.O_CREAT | DafsPosix.O_EXCL | DafsPosix.O_WRONLY, 0644)).errno());
    both(p -> posix.mkdir(p + "/d", 0755));
    assertEquals(Errno.EISDIR.intValue(), both(p -> posix.open(p + "/d", DafsPosix.O_WRONLY)).errno());
    assertEquals(Errno.ENOTDIR.intValue(), both(p -> posix.open(p + "/f", DafsPosix.O_RDONLY | DafsPosix.O_DIRECTORY)).errno());
    assertEquals(Errno.ENOTDIR.intValue(), both(p -> posix.open(p + "/f/x", DafsPosix.O_RDONLY)).errno());
    assertEquals(Errno.EBADF.intValue(), both(p -> {
      int fd = posix.open(p + "/f", DafsPosix.O_RDONLY);
      posix.close(fd);
      return posix.close(fd);
    }).errno());
    assertEquals(Errno.EBADF.intValue(), both(p -> {
      int fd = posix.open(p + "/f", DafsPosix.O_RDONLY);
      posix.close(fd);
      return posix.read(fd, new byte[4], 0, 4);
    }).errno());
  }

  @Test
  void readWriteSeekAndAppendBehaveAsLinux() {
    // write, seek back, read; read at EOF is 0
    both(p -> {
      int fd = posix.open(p + "/rw", DafsPosix.O_CREAT | DafsPosix.O_RDWR, 0644);
      long w = posix.write(fd, bytes("hello world"), 0, 11);
      long at = posix.lseek(fd, 0, DafsPosix.SEEK_CUR);
      long back = posix.lseek(fd, 6, DafsPosix.SEEK_SET);
      byte[] buf = new byte[20];
      long r = posix.read(fd, buf, 0, 20);
      long eof = posix.read(fd, buf, 0, 20);
      long end = posix.lseek(fd, -5, DafsPosix.SEEK_END);
      posix.close(fd);
      return w + "," + at + "," + back + "," + r + "," + new String(buf, 0, (int) r, StandardCharsets.UTF_8) + "," + eof + "," + end;
    });
    assertEquals(Errno.EINVAL.intValue(), both(p -> {
      int fd = posix.open(p + "/rw", DafsPosix.O_RDONLY);
      long r = posix.lseek(fd, -1, DafsPosix.SEEK_SET);
      posix.close(fd); // a successful call leaves errno alone
      return r;
    }).errno());
    // positional I/O leaves the offset alone; pread past the end is 0
    both(p -> {
      int fd = posix.open(p + "/rw", DafsPosix.O_RDWR);
      long w = posix.pwrite(fd, bytes("XY"), 0, 2, 3);
      byte[] buf = new byte[5];
      long r = posix.pread(fd, buf, 0, 5, 2);
      long past = posix.pread(fd, buf, 0, 5, 1000);
      long off = posix.lseek(fd, 0, DafsPosix.SEEK_CUR);
      posix.close(fd);
      return w + "," + r + "," + new String(buf, StandardCharsets.UTF_8) + "," + past + "," + off;
    });
    // O_APPEND writes at the end whatever the offset
    both(p -> {
      int fd = posix.open(p + "/rw", DafsPosix.O_WRONLY | DafsPosix.O_APPEND);
      posix.lseek(fd, 0, DafsPosix.SEEK_SET);
      posix.write(fd, bytes("!!"), 0, 2);
      posix.close(fd);
      return posix.stat(p + "/rw").size();
    });
    // reading a write-only descriptor and writing a read-only one are EBADF
    assertEquals(Errno.EBADF.intValue(), both(p -> {
      int fd = posix.open(p + "/rw", DafsPosix.O_WRONLY);
      long r = posix.read(fd, new byte[1], 0, 1);
      posix.close(fd); // a successful call leaves errno alone
      return r;
    }).errno());
    assertEquals(Errno.EBADF.intValue(), both(p -> {
      int fd = posix.open(p + "/rw", DafsPosix.O_RDONLY);
      long r = posix.write(fd, new byte[1], 0, 1);
      posix.close(fd); // a successful call leaves errno alone
      return r;
    }).errno());
    assertArrayEquals(bytesOf(local + "/rw"), bytesOf(tmp.resolve("export/rw").toString()));
  }

  static byte[] bytesOf(String path) {
    try {
      return Files.readAllBytes(Path.of(path));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void truncateSyncAndStat() {
    both(p -> {
      int fd = posix.open(p + "/t", DafsPosix.O_CREAT | DafsPosix.O_RDWR, 0640);
      posix.write(fd, new byte[5000], 0, 5000);
      int a = posix.ftruncate(fd, 100);
      long s1 = posix.fstat(fd).size();
      int b = posix.ftruncate(fd, 9000);
      byte[] buf = new byte[10];
      long r = posix.pread(fd, buf, 0, 10, 8990);
      int c = posix.fsync(fd);
      int d = posix.fdatasync(fd);
      Stat st = posix.fstat(fd);
      posix.close(fd);
      return a + "," + s1 + "," + b + "," + r + "," + java.util.Arrays.toString(buf) + "," + c + "," + d + "," + st.size() + ","
          + st.isRegularFile() + "," + Integer.toOctalString(st.mode() & 07777);
    });
    assertEquals(Errno.EINVAL.intValue(), both(p -> {
      int fd = posix.open(p + "/t", DafsPosix.O_RDONLY);
      int r = posix.ftruncate(fd, 0);
      posix.close(fd); // a successful call leaves errno alone
      return r;
    }).errno());
    both(p -> posix.stat(p + "/t").size());
    both(p -> posix.stat(p).isDirectory());
    assertEquals(Errno.ENOENT.intValue(), both(p -> posix.stat(p + "/nope")).errno());
    assertEquals(Errno.EBADF.intValue(), both(p -> posix.fstat(987654)).errno());
  }

  @Test
  void namesAndTheirErrors() {
    both(p -> posix.mkdir(p + "/dir", 0755));
    assertEquals(Errno.EEXIST.intValue(), both(p -> posix.mkdir(p + "/dir", 0755)).errno());
    both(p -> posix.close(posix.open(p + "/dir/inner", DafsPosix.O_CREAT | DafsPosix.O_WRONLY, 0644)));
    assertEquals(Errno.ENOTEMPTY.intValue(), both(p -> posix.rmdir(p + "/dir")).errno());
    assertEquals(Errno.EISDIR.intValue(), both(p -> posix.unlink(p + "/dir")).errno());
    assertEquals(Errno.ENOTDIR.intValue(), both(p -> posix.rmdir(p + "/dir/inner")).errno());
    assertEquals(Errno.ENOENT.intValue(), both(p -> posix.unlink(p + "/dir/nothing")).errno());
    both(p -> posix.rename(p + "/dir/inner", p + "/moved"));
    assertEquals(Errno.ENOENT.intValue(), both(p -> posix.rename(p + "/dir/inner", p + "/x")).errno());
    both(p -> posix.mkdir(p + "/full", 0755));
    both(p -> posix.close(posix.open(p + "/full/f", DafsPosix.O_CREAT | DafsPosix.O_WRONLY, 0644)));
    assertEquals(Errno.ENOTEMPTY.intValue(), both(p -> posix.rename(p + "/dir", p + "/full")).errno());
    both(p -> posix.unlink(p + "/moved"));
    both(p -> posix.rmdir(p + "/dir"));
    assertEquals(Errno.EXDEV.intValue(), posix.rename(local + "/full/f", mount + "/full/g") == -1 ? posix.errno() : 0);
  }

  @Test
  void directoryStreams() {
    both(p -> posix.mkdir(p + "/ls", 0755));
    for (String n : new String[] {"a", "b", "c.txt"}) {
      both(p -> posix.close(posix.open(p + "/ls/" + n, DafsPosix.O_CREAT | DafsPosix.O_WRONLY, 0644)));
    }
    both(p -> {
      int d = posix.opendir(p + "/ls");
      Set<String> names = new HashSet<>();
      String n;
      while ((n = posix.readdir(d)) != null) {
        names.add(n);
      }
      int endErrno = posix.errno();
      int c = posix.closedir(d);
      return names + "," + endErrno + "," + c;
    });
    assertEquals(Errno.ENOENT.intValue(), both(p -> posix.opendir(p + "/none")).errno());
    assertEquals(Errno.ENOTDIR.intValue(), both(p -> posix.opendir(p + "/ls/a")).errno());
    assertEquals(Errno.EBADF.intValue(), both(p -> posix.readdir(123456)).errno());
  }

  @Test
  void accessChmodAndTimes() {
    both(p -> posix.close(posix.open(p + "/perm", DafsPosix.O_CREAT | DafsPosix.O_WRONLY, 0644)));
    both(p -> posix.access(p + "/perm", DafsPosix.F_OK));
    both(p -> posix.access(p + "/perm", DafsPosix.R_OK | DafsPosix.W_OK));
    assertEquals(Errno.ENOENT.intValue(), both(p -> posix.access(p + "/gone", DafsPosix.F_OK)).errno());
    both(p -> posix.chmod(p + "/perm", 0600));
    both(p -> Integer.toOctalString(posix.stat(p + "/perm").mode() & 07777));
    long t = 1_500_000_000L * 1_000_000_000L;
    both(p -> posix.utimes(p + "/perm", t, t + 7_000_000_000L));
    both(p -> posix.stat(p + "/perm").modifyTimeNanos() / 1_000_000_000L);
    assertEquals(Errno.ENOENT.intValue(), both(p -> posix.chmod(p + "/gone", 0600)).errno());
  }

  @Test
  void dotDotIsResolvedBeforeChoosingAMount() throws Exception {
    String detour = mount.substring(0, mount.lastIndexOf('/')) + "/elsewhere/.." + mount.substring(mount.lastIndexOf('/'));
    int fd = posix.open(detour + "/viaDetour", DafsPosix.O_CREAT | DafsPosix.O_WRONLY, 0644);
    assertTrue(fd >= 0, "errno " + posix.errno());
    posix.close(fd);
    assertTrue(Files.exists(tmp.resolve("export/viaDetour")), "the file went to DAFS, not to the local disk");
    assertEquals(Errno.ENOENT.intValue(), posix.open("", DafsPosix.O_RDONLY) == -1 ? posix.errno() : 0);
  }

  @Test
  void anUncachedDescriptorSeesTheSameBytes() {
    int fd = posix.open(mount + "/direct", DafsPosix.O_CREAT | DafsPosix.O_RDWR, 0644);
    posix.write(fd, bytes("cached"), 0, 6);
    int dfd = posix.open(mount + "/direct", DafsPosix.O_RDONLY | DafsPosix.O_DIRECT);
    assertTrue(dfd >= 0);
    byte[] buf = new byte[6];
    assertEquals(6, posix.read(dfd, buf, 0, 6));
    assertEquals("cached", new String(buf, StandardCharsets.UTF_8));
    assertEquals(0, posix.close(dfd));
    assertEquals(0, posix.close(fd));
    assertNotNull(posix.stat(mount + "/direct"));
    assertNull(posix.stat(mount + "/nothing-here"));
  }
}
