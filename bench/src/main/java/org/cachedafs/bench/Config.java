package org.cachedafs.bench;

import java.util.Locale;

/** The ways to the same files that the runner measures side by side. */
enum Config {
  /** {@code FileChannel} on the export directory itself, through the kernel's page cache. */
  LOCAL,
  /** The DAFS client through the POSIX facade with the uncached ({@code O_DIRECT}) flag. */
  UNCACHED,
  /** cacheDAFS through the POSIX facade. */
  CACHED,
  /** cacheDAFS through the java.nio provider. */
  NIO,
  /** NFS-Ganesha exporting the same directory, read by a Java NFSv3 client in its network namespace. */
  NFS;

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static Config of(String label) {
    return valueOf(label.toUpperCase(Locale.ROOT));
  }
}
