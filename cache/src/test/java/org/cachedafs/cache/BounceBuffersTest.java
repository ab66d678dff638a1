package org.cachedafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large uncached reads and writes move by direct transfer through the cache's registered bounce
 * buffers, with the same results as inline ones: the right bytes, short reads at the end of the file,
 * and registrations made once, not per call.
 */
class BounceBuffersTest {
  @TempDir Path tmp;

  @Test
  void largeUncachedReadsAndWritesGoDirectAndKeepEveryByte() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    int size = (3 << 20) + 12345; // more than one bounce buffer, and a tail
    byte[] data = new byte[size];
    new Random(7).nextBytes(data);
    Files.write(export.resolve("f"), data);
    try (DafsServer server = DafsServer.start(ServerOptions.of(export));
        DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults());
        CacheManager cache = CacheManager.create(s, CacheConfig.defaults().withCapacity(8 << 20).withSlabBytes(4 << 20))) {
      CachedFile f = cache.open(s.root(), "f", OpenMode.readWrite(), true);
      long placedBefore = server.stats().directBytesOut();
      long registrationsBefore = s.stats().domain().registrations();

      ByteBuffer all = ByteBuffer.allocate(size + 1000);
      assertEquals(size, f.read(0, all), "one call reads it all, short at the end of the file");
      assertArrayEquals(data, Arrays.copyOf(all.array(), size));
      assertTrue(server.stats().directBytesOut() - placedBefore >= size, "placed by the server's one-sided writes, not sent inline");

      byte[] changed = new byte[(1 << 20) + 777];
      new Random(8).nextBytes(changed);
      assertEquals(changed.length, f.write(5000, ByteBuffer.wrap(changed)));
      System.arraycopy(changed, 0, data, 5000, changed.length);
      assertArrayEquals(data, Files.readAllBytes(export.resolve("f")), "written through at once, uncached");

      ByteBuffer again = ByteBuffer.allocate(size);
      while (again.hasRemaining() && f.read(again.position(), again) > 0) {
        // until the end of the file
      }
      assertArrayEquals(data, again.array());
      assertTrue(s.stats().domain().registrations() - registrationsBefore <= 4, "bounce buffers registered once each");
      assertEquals(-1, f.read(size, ByteBuffer.allocate(1 << 20)), "end of file");
      f.close();
    }
  }
}
