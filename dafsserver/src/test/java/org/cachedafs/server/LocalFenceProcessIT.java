package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the server CLI says at start about the local-writer fence, with and without what it needs. */
class LocalFenceProcessIT {
  @TempDir Path tmp;

  private static long said(ServerProcess p, String what) throws Exception {
    return Files.readAllLines(p.stderr).stream().filter(l -> l.contains(what)).count();
  }

  private static void servesAFile(ServerProcess p) throws Exception {
    try (DafsSession s = DafsClient.connect(p.uri, ClientOptions.defaults())) {
      OpenFile f = s.open(s.root(), "f", OpenMode.readWrite().create(0644));
      assertEquals(3, s.write(f, 0, ByteBuffer.wrap(new byte[] {1, 2, 3})));
    }
  }

  private static boolean root() throws Exception {
    return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
  }

  @Test
  void withoutCapSysAdminItSaysOnceThatLocalWritersAreNotFencedAndServes() throws Exception {
    Assumptions.assumeTrue(root() && Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs root and setpriv to start a server without CAP_SYS_ADMIN");
    Path export = Files.createDirectories(tmp.resolve("export"));
    try (ServerProcess p = ServerProcess.start(tmp, List.of("setpriv", "--bounding-set", "-sys_admin"), List.of(), "--export", export.toString())) {
      servesAFile(p);
      assertEquals(1, said(p, "local writers are not fenced"), Files.readString(p.stderr));
      assertEquals(1, said(p, "CAP_SYS_ADMIN"), Files.readString(p.stderr));
    }
  }

  @Test
  void turnedOffItSaysSo() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    try (ServerProcess p = ServerProcess.start(tmp, 0, List.of(), "--export", export.toString(), "--no-local-fence")) {
      servesAFile(p);
      assertEquals(1, said(p, "local writers are not fenced (--no-local-fence)"), Files.readString(p.stderr));
    }
  }

  @Test
  void asRootItSaysTheyAreFenced() throws Exception {
    Assumptions.assumeTrue(root(), "needs root");
    Path export = Files.createDirectories(tmp.resolve("export"));
    try (ServerProcess p = ServerProcess.start(tmp, 0, List.of(), "--export", export.toString())) {
      servesAFile(p);
      assertEquals(1, said(p, "local writers are fenced"), Files.readString(p.stderr));
    }
  }
}
