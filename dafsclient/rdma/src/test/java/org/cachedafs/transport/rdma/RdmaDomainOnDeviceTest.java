package org.cachedafs.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The provider's domains on a real device. Skipped where the provider is unavailable (this host);
 * runs in the SoftRoCE guest (vm/guest-run.sh), where it must not skip.
 */
class RdmaDomainOnDeviceTest {
  @BeforeAll
  static void device() {
    RdmaTransport t = new RdmaTransport();
    assumeTrue(t.isAvailable(), t.unavailableReason());
  }

  @Test
  void foundByItsSchemeAndAvailable() {
    Transport t = Transports.forScheme("rdma");
    assertTrue(t.isAvailable());
    assertEquals("", t.unavailableReason());
  }

  @Test
  void everyRegionIsRegisteredOnceAndNamedByAddressAndKey() {
    try (MemoryDomain domain = Transports.forScheme("rdma").openDomain()) {
      Region allocated = domain.allocate(1 << 20, Access.REMOTE_READ_WRITE);
      Region registered = domain.register(ByteBuffer.allocateDirect(8192), Access.LOCAL);
      assertEquals(2, domain.stats().registrations());
      assertEquals(RdmaRegion.DESCRIPTOR_BYTES, allocated.remote().size());
      assertTrue(allocated.belongsTo(domain));
      assertEquals(1 << 20, allocated.length());
      assertEquals(0, allocated.buffer().getLong(0), "allocated memory starts zeroed");
      allocated.buffer().putLong(0, 42);
      assertEquals(42, allocated.buffer().getLong(0));
      registered.close();
      registered.close();
      assertEquals(2, domain.stats().registrations(), "closing registers nothing");
    }
  }

  @Test
  void aClosedDomainRefusesMemory() {
    MemoryDomain domain = Transports.forScheme("rdma").openDomain();
    domain.close();
    assertThrows(IllegalStateException.class, () -> domain.allocate(4096, Access.LOCAL));
  }

  @Test
  void onlyDirectBuffersRegister() {
    try (MemoryDomain domain = Transports.forScheme("rdma").openDomain()) {
      assertThrows(IllegalArgumentException.class, () -> domain.register(ByteBuffer.allocate(4096), Access.LOCAL));
    }
  }
}
