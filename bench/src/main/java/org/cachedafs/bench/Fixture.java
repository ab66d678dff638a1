package org.cachedafs.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;

/**
 * Where the runner's files live and how each configuration reaches them: an embedded server on a
 * temporary export over real loopback tcp, or a remote server (then there is no local configuration
 * unless the export directory is given, and no NFS peer).
 *
 * <p>The runner may be pointed at a fresh export and must leave it as it found it: the fixture makes
 * the directories its files need, and on close removes every file it wrote and every directory it
 * made (a directory that something else put a file into stays).
 */
final class Fixture implements AutoCloseable {
  private final URI server;
  private final byte[] secret;
  private final Path export;
  private final DafsServer embedded;
  private final Path temporary;
  /**
   * The cache of the sessions that make, read back and remove files through the server: they go around
   * it, and a small one keeps each such session from allocating (and locking) the default's memory.
   */
  private static final CacheConfig ADMIN_CACHE = CacheConfig.defaults().withCapacity(4 << 20);
  /** Files this fixture wrote and has not removed, in the order written. */
  private final Set<String> written = new LinkedHashSet<>();
  /** Directories this fixture made, parents first. */
  private final List<String> made = new ArrayList<>();

  private Fixture(URI server, byte[] secret, Path export, DafsServer embedded, Path temporary) {
    this.server = server;
    this.secret = secret;
    this.export = export;
    this.embedded = embedded;
    this.temporary = temporary;
  }

  /** An embedded server in this JVM, exporting a new directory under {@code parent}. */
  static Fixture embedded(Path parent) throws IOException {
    Files.createDirectories(parent);
    Path dir = Files.createTempDirectory(parent, "dafs-bench-");
    Path export = Files.createDirectories(dir.resolve("export"));
    DafsServer server = DafsServer.start(ServerOptions.of(export));
    return new Fixture(server.uri(), null, export, server, dir);
  }

  /** A running server; {@code export} is its export directory if this machine can see it, else null. */
  static Fixture remote(URI server, byte[] secret, Path export) {
    return new Fixture(server, secret, export, null, null);
  }

  URI server() {
    return server;
  }

  byte[] secret() {
    return secret;
  }

  /** The export directory on this machine, or null. */
  Path export() {
    return export;
  }

  boolean embedded() {
    return embedded != null;
  }

  /** The file on local disk, or null when the export is not visible here. */
  Path onDisk(String file) {
    return export == null ? null : export.resolve(file);
  }

  /** A new target for {@code config}, with a cold cache of {@code cache}'s shape. */
  Target target(Config config, CacheConfig cache) throws IOException {
    switch (config) {
      case LOCAL:
        if (export == null) {
          throw new IllegalStateException("no local configuration: the export is not on this machine");
        }
        return Targets.local(export);
      case UNCACHED, UNCACHED_SHM, CACHED, CACHED_SHM, ODAFS, ODAFS_SHM:
        return Targets.facade(server, secret, cache, config.uncached(), config.transport(), config.optimistic());
      case NIO:
        return Targets.nio(server, secret, cache, false);
      default:
        throw new IllegalArgumentException(config + " runs in its own process");
    }
  }

  /**
   * Creates {@code file} with generation 0 of its pattern, on local disk when the export is here and
   * through an uncached DAFS session otherwise.
   */
  void create(String file, String patternOf, long bytes) throws IOException {
    DataPattern pattern = CellRunner.patternOf(patternOf);
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    parents(file);
    written.add(file);
    if (export != null) {
      write(export.resolve(file), pattern, bytes);
      return;
    }
    try (Target t = Targets.facade(server, secret, ADMIN_CACHE, true, "tcp"); Target.Handle h = t.open(file, true)) {
      for (long at = 0; at < bytes; at += buf.capacity()) {
        buf.clear().limit((int) Math.min(buf.capacity(), bytes - at));
        pattern.fill(buf, at, 0);
        CellRunner.writeFully(h, buf, at);
      }
      h.sync();
    }
  }

  /** Writes generation 0 of {@code pattern} into {@code file} through this JVM's file system, {@code bytes} long. */
  static void write(Path file, DataPattern pattern, long bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      for (long at = 0; at < bytes; at += buf.capacity()) {
        buf.clear().limit((int) Math.min(buf.capacity(), bytes - at));
        pattern.fill(buf, at, 0);
        while (buf.hasRemaining()) {
          ch.write(buf, at + buf.position());
        }
      }
    }
  }

  /** Creates {@code file} holding {@code bytes} zero bytes. */
  void createZeroed(String file, int bytes) throws IOException {
    parents(file);
    written.add(file);
    if (export != null) {
      Files.write(export.resolve(file), new byte[bytes]);
      return;
    }
    try (Target t = Targets.facade(server, secret, ADMIN_CACHE, true, "tcp"); Target.Handle h = t.open(file, true)) {
      CellRunner.writeFully(h, ByteBuffer.allocate(bytes), 0);
      h.sync();
    }
  }

  /** The first {@code bytes} bytes of {@code file}, as the server's disk holds them. */
  byte[] read(String file, int bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(bytes);
    if (export != null) {
      try (FileChannel ch = FileChannel.open(export.resolve(file), StandardOpenOption.READ)) {
        while (buf.hasRemaining() && ch.read(buf, buf.position()) >= 0) {
          // until full or end of file
        }
      }
      return buf.array();
    }
    try (Target t = Targets.facade(server, secret, ADMIN_CACHE, true, "tcp"); Target.Handle h = t.open(file, false)) {
      CellRunner.readFully(h, buf, 0);
    }
    return buf.array();
  }

  /** Removes a file this fixture wrote, through the server when the export is remote. */
  void delete(String file) throws IOException {
    written.remove(file);
    if (export != null) {
      Files.deleteIfExists(export.resolve(file));
      return;
    }
    onServer(root -> Files.deleteIfExists(root.resolve(file)));
  }

  /** Makes {@code dir} and its parents where missing, to be removed on close if they are empty then. */
  void directory(String dir) throws IOException {
    String at = "";
    for (String part : dir.split("/")) {
      at = at.isEmpty() ? part : at + "/" + part;
      String d = at;
      boolean missing = export != null ? Files.notExists(export.resolve(d)) : onServer(root -> Files.notExists(root.resolve(d)));
      if (missing) {
        if (export != null) {
          Files.createDirectory(export.resolve(d));
        } else {
          onServer(root -> Files.createDirectory(root.resolve(d)));
        }
        made.add(d);
      }
    }
  }

  private void parents(String file) throws IOException {
    int slash = file.lastIndexOf('/');
    if (slash > 0) {
      directory(file.substring(0, slash));
    }
  }

  /** Something done to the export through the server: a short-lived java.nio file system, uncached. */
  private <T> T onServer(ServerCall<T> call) throws IOException {
    Map<String, Object> env = new HashMap<>();
    if (secret != null) {
      env.put("secret", secret);
    }
    env.put("client.name", "bench-fixture");
    env.put("transport", "tcp");
    env.put("uncached", true);
    env.put("cache.size", ADMIN_CACHE.capacityBytes());
    try (FileSystem fs = FileSystems.newFileSystem(URI.create("dafs://" + server.getAuthority() + "/"), env)) {
      return call.on(fs.getPath("/"));
    }
  }

  private interface ServerCall<T> {
    T on(Path root) throws IOException;
  }

  /** Removes what this fixture wrote, then the directories it made that are empty now, deepest first. */
  private void cleanUp() throws IOException {
    for (String f : List.copyOf(written)) {
      delete(f);
    }
    for (int i = made.size() - 1; i >= 0; i--) {
      // A directory that something else put a file into is not ours to remove.
      Path d = Path.of(made.get(i));
      if (export != null) {
        removeIfEmpty(export.resolve(d.toString()));
      } else {
        onServer(root -> removeIfEmpty(root.resolve(d.toString())));
      }
    }
    made.clear();
  }

  private static boolean removeIfEmpty(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> s = Files.list(dir)) {
      if (s.findAny().isPresent()) {
        return false;
      }
    }
    return Files.deleteIfExists(dir);
  }

  @Override
  public void close() throws IOException {
    if (embedded == null) {
      cleanUp();
    }
    if (embedded != null) {
      embedded.close();
    }
    if (temporary != null) {
      try (Stream<Path> walk = Files.walk(temporary)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
