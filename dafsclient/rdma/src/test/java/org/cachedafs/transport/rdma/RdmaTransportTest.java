package org.cachedafs.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.cachedafs.transport.Transport;
import org.cachedafs.transport.Transports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The provider's registration and its availability probe, on fabricated sysfs/devfs trees. */
class RdmaTransportTest {
  @TempDir Path root;

  @Test
  void registeredLikeTheOtherProviders() {
    assertTrue(Transports.all().stream().anyMatch(t -> t.scheme().equals("rdma") && t instanceof RdmaTransport));
  }

  /** This host has no RDMA device; the provider says so, and refuses to open anything. */
  @Test
  void unavailableWithoutADeviceAndSaysWhy() {
    assumeFalse(Files.exists(Path.of("/dev/infiniband/rdma_cm")), "this host has an RDMA device");
    Transport t = new RdmaTransport();
    assertFalse(t.isAvailable());
    assertTrue(t.unavailableReason().startsWith("no RDMA device"), t.unavailableReason());
    IllegalStateException e = assertThrows(IllegalStateException.class, t::openDomain);
    assertTrue(e.getMessage().contains("no RDMA device"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Transports.forScheme("rdma"));
  }

  private Path device() throws IOException {
    Files.createDirectories(root.resolve("sys/class/infiniband/rxe0"));
    Files.createDirectories(root.resolve("dev/infiniband"));
    return Files.createFile(root.resolve("dev/infiniband/rdma_cm"));
  }

  private Path library() throws IOException {
    Path dir = Files.createDirectories(root.resolve("lib"));
    Files.createFile(dir.resolve(Availability.LIBRARY));
    return dir;
  }

  @Test
  void availableWithADeviceAndTheLibrary() throws IOException {
    device();
    Path lib = library();
    Availability a = Availability.probe(root, "/nonexistent:" + lib);
    assertTrue(a.available(), a.reason());
    assertEquals("", a.reason());
  }

  @Test
  void namesTheMissingDeviceAlone() throws IOException {
    Availability a = Availability.probe(root, library().toString());
    assertTrue(a.reason().startsWith("no RDMA device:"), a.reason());
    assertFalse(a.reason().contains("native library"), a.reason());
  }

  @Test
  void namesTheMissingDeviceNodeAlone() throws IOException {
    Files.createDirectories(root.resolve("sys/class/infiniband/rxe0"));
    Availability a = Availability.probe(root, library().toString());
    assertTrue(a.reason().startsWith("no RDMA device node:"), a.reason());
  }

  @Test
  void namesTheMissingLibraryAlone() throws IOException {
    device();
    Availability a = Availability.probe(root, root.resolve("empty").toString());
    assertTrue(a.reason().startsWith("no native library: " + Availability.LIBRARY), a.reason());
    assertFalse(a.reason().contains("RDMA device"), a.reason());
  }

  @Test
  void namesBothWhenBothAreMissing() {
    Availability a = Availability.probe(root, "");
    assertTrue(a.reason().contains("no RDMA device") && a.reason().contains("no native library"), a.reason());
  }
}
