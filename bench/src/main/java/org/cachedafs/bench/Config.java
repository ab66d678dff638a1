package org.cachedafs.bench;

/**
 * The ways to the same files that the runner measures side by side. The DAFS ones name their
 * transport: the plain labels ({@code uncached}, {@code cached}, {@code nio}) are tcp, so that their
 * figures mean what they meant before shm existed; the {@code -shm} ones move the session to shared
 * memory.
 */
enum Config {
  /** {@code FileChannel} on the export directory itself, through the kernel's page cache. */
  LOCAL("local", null),
  /** The DAFS client through the POSIX facade with the uncached ({@code O_DIRECT}) flag, over tcp. */
  UNCACHED("uncached", "tcp"),
  /** cacheDAFS through the POSIX facade, over tcp. */
  CACHED("cached", "tcp"),
  /** cacheDAFS through the java.nio provider, over tcp. */
  NIO("nio", "tcp"),
  /** As {@link #UNCACHED}, over shm. */
  UNCACHED_SHM("uncached-shm", "shm"),
  /** As {@link #CACHED}, over shm. */
  CACHED_SHM("cached-shm", "shm"),
  /**
   * As {@link #UNCACHED}, with ODAFS: reads go first to the server's exported cache by one-sided
   * reads of the slots the session holds references to, validated by the client (docs/odafs.md).
   */
  ODAFS("odafs", "tcp"),
  /** As {@link #ODAFS}, over shm: an accepted read costs the server no CPU at all. */
  ODAFS_SHM("odafs-shm", "shm"),
  /** NFS-Ganesha exporting the same directory, read by a Java NFSv3 client in its network namespace. */
  NFS("nfs", null);

  private final String label;
  private final String transport;

  Config(String label, String transport) {
    this.label = label;
    this.transport = transport;
  }

  String label() {
    return label;
  }

  /** The DAFS transport the configuration runs over; null for those that are not DAFS. */
  String transport() {
    return transport;
  }

  /** Whether it reads around the cache. */
  boolean uncached() {
    return this == UNCACHED || this == UNCACHED_SHM || optimistic();
  }

  /**
   * Whether its session reads the server's exported cache first (ODAFS). Such a configuration runs
   * only the random-read workloads: ODAFS changes nothing else (writes and sequential reads take the
   * uncached path, already measured).
   */
  boolean optimistic() {
    return this == ODAFS || this == ODAFS_SHM;
  }

  static Config of(String label) {
    for (Config c : values()) {
      if (c.label.equalsIgnoreCase(label)) {
        return c;
      }
    }
    throw new IllegalArgumentException("no configuration called '" + label + "'");
  }
}
