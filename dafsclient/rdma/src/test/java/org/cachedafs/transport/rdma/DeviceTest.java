package org.cachedafs.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding a device's address through sysfs, on fabricated trees (the loopback interface stands in). */
class DeviceTest {
  @TempDir Path root;

  private void device(String name, String ndev) throws IOException {
    Path gid = Files.createDirectories(root.resolve("sys/class/infiniband/" + name + "/ports/1/gid_attrs/ndevs"));
    Files.writeString(gid.resolve("1"), ndev + "\n");
  }

  @Test
  void theAddressOfTheInterfaceTheGidNames() throws IOException {
    device("rxe0", "lo");
    assertEquals(InetAddress.getByName("127.0.0.1"), Device.firstAddress(root));
  }

  @Test
  void skipsADeviceWithoutAnIpv4Interface() throws IOException {
    device("rxe0", "no-such-interface");
    device("rxe1", "lo");
    assertEquals(InetAddress.getByName("127.0.0.1"), Device.firstAddress(root));
  }

  @Test
  void noDeviceWithAnAddressIsAnIOException() throws IOException {
    device("rxe0", "no-such-interface");
    assertThrows(IOException.class, () -> Device.firstAddress(root));
  }
}
