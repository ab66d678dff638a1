package org.cachedafs.transport.rdma;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Finds the IPv4 address of an RDMA device's network interface. DiSNI can open a device only through
 * a connection-manager id bound to such an address (it has no {@code ibv_open_device}), and a domain
 * must exist before any connection, so a domain binds a private id to this address to get the
 * device's context. RoCE devices (rxe among them) name their interface in sysfs, under the GID table
 * entry of the port's IPv4 GID (index 1).
 */
final class Device {
  private Device() {}

  /** The first RDMA device's IPv4 address, from sysfs under {@code root}. */
  static InetAddress firstAddress(Path root) throws IOException {
    Path devices = root.resolve("sys/class/infiniband");
    try (Stream<Path> all = Files.list(devices)) {
      for (Path device : (Iterable<Path>) all.sorted()::iterator) {
        Path ndev = device.resolve("ports/1/gid_attrs/ndevs/1");
        if (!Files.isReadable(ndev)) {
          continue;
        }
        String name = Files.readString(ndev).trim();
        InetAddress a = ipv4Of(name);
        if (a != null) {
          return a;
        }
      }
    }
    throw new IOException("no RDMA device under " + devices + " has a network interface with an IPv4 address");
  }

  private static InetAddress ipv4Of(String interfaceName) throws SocketException {
    NetworkInterface nic = NetworkInterface.getByName(interfaceName);
    if (nic == null) {
      return null;
    }
    return nic.inetAddresses().filter(a -> a instanceof Inet4Address).findFirst().orElse(null);
  }
}
