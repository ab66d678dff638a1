package org.cachedafs.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.RemoteAccessException;
import org.junit.jupiter.api.Test;

/** Regions over segments: registered views, what closing each one does, and what register refuses. */
class ShmRegionTest {
  private static byte[] random(Region r, long seed) {
    byte[] a = new byte[r.length()];
    new Random(seed).nextBytes(a);
    r.buffer().put(a);
    return a;
  }

  @Test
  void registerTakesOnlyViewsOfAllocatedMemoryWithNoWiderAccess() throws Exception {
    ShmTransport shm = new ShmTransport();
    try (ShmDomain d = (ShmDomain) shm.openDomain(); ShmDomain other = (ShmDomain) shm.openDomain()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.register(ByteBuffer.allocateDirect(64), Access.LOCAL));
      assertTrue(e.getMessage().contains("shm can only expose memory it allocated") && e.getMessage().contains("MemoryDomain.allocate"),
          e.getMessage());
      Region readOnly = d.allocate(8192, Access.REMOTE_READ);
      assertThrows(IllegalArgumentException.class, () -> d.register(readOnly.buffer(), Access.REMOTE_WRITE), "no wider access");
      assertThrows(IllegalArgumentException.class, () -> other.register(readOnly.buffer(), Access.LOCAL), "not another domain's");
      assertThrows(IllegalArgumentException.class, () -> d.register(ByteBuffer.allocate(8), Access.LOCAL), "not heap memory");
      Region view = d.register(readOnly.buffer().position(100).limit(300), Access.REMOTE_READ);
      assertEquals(200, view.length());
      view.buffer().put(0, (byte) 9);
      assertEquals(9, readOnly.buffer().get(100), "a view is the same memory");
      readOnly.close();
      assertThrows(IllegalArgumentException.class, () -> d.register(readOnly.buffer(), Access.LOCAL), "not closed memory");
    }
  }

  @Test
  void aViewClosesOnItsOwnAndItsOwnerTakesItsViewsAlong() throws Exception {
    try (ShmPair pair = new ShmPair(); ShmPair.Client client = pair.connect()) {
      Region slab = pair.serverDomain.allocate(8192, Access.REMOTE_READ_WRITE);
      byte[] content = random(slab, 1);
      Region view = pair.serverDomain.register(slab.buffer().position(4096), Access.REMOTE_READ);
      Region local = client.domain.allocate(8192, Access.LOCAL);
      client.connection.read(local, 0, view.remote(), 0, 4096).get(10, TimeUnit.SECONDS);
      byte[] got = new byte[4096];
      local.buffer().get(got);
      assertArrayEquals(java.util.Arrays.copyOfRange(content, 4096, 8192), got, "a view is read where it lies");

      view.close();
      client.connection.read(local, 0, slab.remote(), 0, 8192).get(10, TimeUnit.SECONDS); // the slab stays
      ExecutionException e = assertThrows(ExecutionException.class, () -> client.connection.read(local, 0, view.remote(), 0, 8).get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof RemoteAccessException, "a closed view names nothing any more: " + e);

      try (ShmPair.Client second = pair.connect()) {
        Region otherView = pair.serverDomain.register(slab.buffer().position(0).limit(4096), Access.REMOTE_WRITE);
        Region source = second.domain.allocate(16, Access.LOCAL);
        second.connection.write(source, 0, otherView.remote(), 0, 16).get(10, TimeUnit.SECONDS);
        slab.close();
        second.connection.write(source, 0, otherView.remote(), 0, 16).get(10, TimeUnit.SECONDS); // dropped: closed with its owner
        assertTrue(second.connection.isOpen(), "a write into memory closed meanwhile is dropped, the connection lives");
        e = assertThrows(ExecutionException.class, () -> second.connection.read(second.domain.allocate(16, Access.LOCAL), 0, slab.remote(), 0, 8)
            .get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof RemoteAccessException, e.toString());
      }
    }
  }

  @Test
  void aStaleViewOfAClosedRegionReadsZerosAndItsMemoryIsGone() throws Exception {
    ShmTransport shm = new ShmTransport();
    try (ShmDomain d = (ShmDomain) shm.openDomain()) {
      Region r = d.allocate(1 << 20, Access.REMOTE_READ_WRITE);
      random(r, 2);
      ByteBuffer stale = r.buffer();
      assertEquals(1, Procfs.mappingsOf(d.tag()).size());
      r.close();
      assertEquals(0, Procfs.mappingsOf(d.tag()).size(), "the memory file is no longer mapped here");
      assertEquals(0, stale.get(12345), "a view kept past close reads zeros, and does not fault");
      stale.put(0, (byte) 1); // nor does a write
      assertTrue(Procfs.memfdDescriptors().stream().noneMatch(f -> f.contains(d.tag())), "and its descriptor is closed");
    }
  }
}
