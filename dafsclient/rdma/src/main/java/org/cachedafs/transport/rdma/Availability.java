package org.cachedafs.transport.rdma;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Whether this machine can run {@code rdma}, and if not, which of its two needs is missing: an RDMA
 * device (a NIC, or SoftRoCE's {@code rdma_rxe} bound to an Ethernet device) and the project's own
 * JNI library for DiSNI, {@code libdisni.so}, on {@code java.library.path}.
 *
 * <p>The probe only looks at files: it neither loads the library nor opens a device, so that finding
 * providers through {@code ServiceLoader} has no side effects.
 */
record Availability(String reason) {
  static final String LIBRARY = System.mapLibraryName("disni");

  boolean available() {
    return reason.isEmpty();
  }

  /** Probes sysfs and devfs under {@code root} ("/" on a real system; a test gives its own tree). */
  static Availability probe(Path root, String libraryPath) {
    List<String> missing = new ArrayList<>();
    String device = deviceMissing(root);
    if (device != null) {
      missing.add(device);
    }
    if (findLibrary(libraryPath) == null) {
      missing.add("no native library: " + LIBRARY + " (cachedafs's JNI library for DiSNI, built by dafsclient/rdma where"
          + " libibverbs-dev and librdmacm-dev are installed) is not on java.library.path (" + libraryPath + ")");
    }
    return new Availability(String.join("; ", missing));
  }

  static Availability probe() {
    return probe(Path.of("/"), System.getProperty("java.library.path", ""));
  }

  private static String deviceMissing(Path root) {
    Path sys = root.resolve("sys/class/infiniband");
    boolean any;
    try (Stream<Path> devices = Files.list(sys)) {
      any = devices.findAny().isPresent();
    } catch (IOException e) {
      any = false;
    }
    if (!any) {
      return "no RDMA device: " + sys + " lists none (no RDMA NIC here, and no SoftRoCE: modprobe rdma_rxe;"
          + " rdma link add rxe0 type rxe netdev <ethernet device>)";
    }
    Path cm = root.resolve("dev/infiniband/rdma_cm");
    if (!Files.exists(cm)) {
      return "no RDMA device node: " + cm + " is missing (modprobe rdma_ucm ib_uverbs)";
    }
    return null;
  }

  /** The library file on {@code libraryPath}, or null. */
  static Path findLibrary(String libraryPath) {
    for (String dir : libraryPath.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, LIBRARY);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
