package org.cachedafs.posix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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

/** Issue 11, defect 2 through the facade: ENAMETOOLONG and EINVAL, as locally, and the mount keeps working. */
class PosixNameLimitsTest {
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
    mount = "/dafs-names-mount-" + System.nanoTime();
    posix.mount(mount, cache);
  }

  @AfterEach
  void stop() {
    posix.close();
    cache.close();
    session.close();
    server.close();
  }

  @Test
  void tooLongIsEnametoolongAsLocallyNulIsEinvalAndTheMountKeepsWorking() {
    int enametoolong = Errno.ENAMETOOLONG.intValue();
    for (String dir : new String[] {local, mount}) {
      assertNull(posix.stat(dir + "/" + "d/".repeat(2_500)), dir);
      assertEquals(enametoolong, posix.errno(), dir);
      assertEquals(-1, posix.open(dir + "/" + "n".repeat(256), DafsPosix.O_RDWR | DafsPosix.O_CREAT, 0644), dir);
      assertEquals(enametoolong, posix.errno(), dir);
      assertEquals(-1, posix.mkdir(dir + "/" + "n".repeat(256), 0755), dir);
      assertEquals(enametoolong, posix.errno(), dir);
    }
    assertEquals(-1, posix.open(mount + "/a\0b", DafsPosix.O_RDWR | DafsPosix.O_CREAT, 0644));
    assertEquals(Errno.EINVAL.intValue(), posix.errno());
    assertEquals(-1, posix.unlink(mount + "/a\0b"));
    assertEquals(Errno.EINVAL.intValue(), posix.errno());

    int fd = posix.open(mount + "/f", DafsPosix.O_RDWR | DafsPosix.O_CREAT, 0644);
    assertTrue(fd >= 0, "errno " + posix.errno());
    assertEquals(5L, posix.write(fd, "hello".getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, 5));
    assertEquals(0, posix.close(fd));
    for (int i = 0; i < 4 * session.credits() + 1; i++) {
      Stat st = posix.stat(mount + "/f");
      assertEquals(5, st == null ? -1 : st.size(), "errno " + posix.errno());
    }
  }
}
