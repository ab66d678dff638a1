package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheSmokeTest {
  @TempDir Path tmp;

  @Test
  void readWriteThroughTheCache() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    byte[] data = new byte[1 << 20];
    new Random(1).nextBytes(data);
    Files.write(export.resolve("f"), data);
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withCapacity(8 << 20).withSlabBytes(4 << 20))) {
      CachedFile f = cache.open(s.root(), "f", OpenMode.readWrite());
      assertTrue(f.isWriteBack());
      ByteBuffer b = ByteBuffer.allocate(data.length);
      while (b.hasRemaining()) {
        f.read(b.position(), b);
      }
      assertArrayEquals(data, b.array());
      long sent = s.stats().requestsSent();
      ByteBuffer again = ByteBuffer.allocate(4096);
      f.read(12345, again);
      assertEquals(sent, s.stats().requestsSent(), "a hit does no I/O");
      f.write(100, ByteBuffer.wrap(new byte[] {9, 9, 9}));
      assertEquals(data[100], Files.readAllBytes(export.resolve("f"))[100], "still only in the cache");
      f.sync();
      assertEquals(9, Files.readAllBytes(export.resolve("f"))[100]);
      f.close();
      System.out.println(cache.stats());
    }
  }
}
