package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many requests in flight on one session, never more than the credits, none refused when they run out. */
class PipeliningTest {
  @TempDir Path tmp;

  @Test
  void thirtyTwoInFlightAndTheRestWaitForCredits() throws Exception {
    try (ServerFixture f = new ServerFixture(tmp, o -> o.withMaxCredits(32))) {
      byte[] data = new byte[256 * 1024];
      new java.util.Random(1).nextBytes(data);
      Files.write(f.export.resolve("big"), data);
      // The client asks for more than the server gives; it must live within what it was granted.
      DafsSession s = f.connect(ClientOptions.defaults().withCredits(100));
      assertEquals(32, s.credits());
      OpenFile o = s.open(s.root(), "big", OpenMode.read());
      int requests = 400;
      List<CompletableFuture<Integer>> all = new ArrayList<>();
      List<ByteBuffer> buffers = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        ByteBuffer b = ByteBuffer.allocate(data.length);
        buffers.add(b);
        all.add(s.readAsync(o, 0, b));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get();
      for (int i = 0; i < requests; i++) {
        assertEquals(data.length, all.get(i).get());
        assertEquals(ByteBuffer.wrap(data), buffers.get(i).flip());
      }
      int max = s.stats().maxInFlight();
      assertEquals(32, max, "the pipeline filled every credit and never went past it");
      assertEquals(0, s.stats().inFlight());
      assertTrue(s.stats().requestsSent() >= requests);
    }
  }
}
