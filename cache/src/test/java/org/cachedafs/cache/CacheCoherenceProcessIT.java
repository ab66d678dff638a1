package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two client processes, each with its own cache, against a server process. A writes under a WRITE
 * delegation and keeps the bytes dirty in its cache; B, in another JVM, opens the file and reads A's
 * bytes, which came to the server only through the recall. Then the two swap roles.
 */
class CacheCoherenceProcessIT {
  @TempDir Path tmp;

  /** The holder's stats once the server's answer to its return has reached it (the reader went on before). */
  static String settled(ManagedProcess p) throws Exception {
    String st = p.ok("stats");
    for (int i = 0; i < 100 && !st.contains("returns=1"); i++) {
      Thread.sleep(20);
      st = p.ok("stats");
    }
    return st;
  }

  @Test
  void dirtyBytesInOneProcessAreReadByTheOtherThroughTheRecallBothWays() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    Files.writeString(export.resolve("f"), "..........");
    try (ManagedProcess server = ManagedProcess.server(export, 30_000);
        ManagedProcess a = ManagedProcess.client(CacheClientMain.class, server.listeningUri());
        ManagedProcess b = ManagedProcess.client(CacheClientMain.class, server.listeningUri())) {
      // A writes; its bytes stay in its cache.
      assertEquals("ok opened writeback=true cached=true", a.ok("open f"));
      a.ok("write f 0 AAAA");
      assertEquals("ok stats dirty=1 recalls=0 returns=0", a.ok("stats"));
      assertEquals("..........", Files.readString(export.resolve("f")), "A's write is only in A's memory");
      // B opens (recalling A's delegation) and reads A's bytes.
      assertTrue(b.ok("open f").startsWith("ok opened"));
      assertEquals("ok data AAAA......", b.ok("read f 0 10"));
      assertEquals("ok stats dirty=0 recalls=1 returns=1", settled(a), "A flushed and returned on the recall");
      b.ok("close f");
      a.ok("close f");

      // Roles swapped: B writes under its own WRITE delegation, A reads through the recall.
      assertEquals("ok opened writeback=true cached=true", b.ok("open f"));
      b.ok("write f 2 BBBB");
      assertEquals("AAAA......", Files.readString(export.resolve("f")), "B's write is only in B's memory");
      a.ok("open f");
      assertEquals("ok data AABBBB....", a.ok("read f 0 10"));
      assertEquals("ok stats dirty=0 recalls=1 returns=1", settled(b));
      a.ok("close f");
      b.ok("close f");
      assertEquals("AABBBB....", Files.readString(export.resolve("f")));
    }
  }
}
