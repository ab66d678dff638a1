package org.cachedafs.fuse;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseException;

/**
 * One mount, in the foreground: connect, make the cache, hand the kernel the file system, and once the
 * kernel has let go of it, close what is open (writing it back), the cache and the session.
 *
 * <p><b>Stopping.</b> {@code fusermount -u} ends libfuse's loop, and the main thread then closes
 * everything. SIGTERM, SIGINT and SIGHUP unmount the same way, lazily ({@code fusermount -u -z}), so a
 * busy mount point is taken out of the namespace at once; if files are still open on it after
 * {@link #GRACE_SECONDS}, they are written back and closed, the cache and session with them, and the
 * process exits, leaving their descriptors to fail with ENOTCONN. Either way nothing written through
 * the mount is left in the cache. After a SIGKILL the kernel keeps a dead mount point (ENOTCONN) that
 * {@code fusermount -u} clears.
 */
final class Mount {
  private static final Logger log = LoggerFactory.getLogger(Mount.class);
  /** How long a signalled stop waits for the files still open on the mount to be closed. */
  static final long GRACE_SECONDS = 3;

  private final URI server;
  private final Path mountPoint;
  private final ClientOptions options;
  private final CacheConfig config;
  private final PrintStream out;

  Mount(URI server, Path mountPoint, ClientOptions options, CacheConfig config, PrintStream out) {
    this.server = server;
    this.mountPoint = mountPoint;
    this.options = options;
    this.config = config;
    this.out = out;
  }

  /**
   * The kernel's options, and why each. Coherence with other clients is the cache's, under its
   * delegations, so the kernel keeps nothing it would have to be told to drop (libfuse 2's high-level
   * API, which jnr-fuse binds, cannot tell it): {@code direct_io} sends every read and write here,
   * past the page cache, and zero timeouts make every lookup and stat ask again. See docs/fuse.md.
   */
  private List<String> kernelOptions() {
    return List.of("-o", String.join(",",
        "fsname=" + server,
        "subtype=dafs",
        "direct_io",
        "attr_timeout=0",
        "entry_timeout=0",
        "negative_timeout=0",
        // The server's inode numbers, stable across lookups and clients, rather than libfuse's own.
        "use_ino",
        "readdir_ino",
        // A file removed while open stays readable and writable through its opens (the cache and the
        // server keep it), rather than being renamed to .fuse_hidden* by libfuse.
        "hard_remove",
        // 128 KiB a write rather than a page: the cache and the server take large writes whole.
        "big_writes",
        "max_write=" + Attributes.PREFERRED_IO,
        "max_read=" + Attributes.PREFERRED_IO,
        // O_TRUNC arrives with the open, so the cache drops the file's blocks as it truncates.
        "atomic_o_trunc",
        // The kernel checks the mode bits the server reports against the calling process.
        "default_permissions"));
  }

  /** Mounts and serves until unmounted; returns the exit code. */
  int run() throws IOException {
    DafsSession session = DafsClient.connect(URI.create("dafs://" + server.getAuthority()), options);
    CacheManager cache = null;
    DafsFuse fs;
    try {
      cache = CacheManager.create(session, config);
      fs = new DafsFuse(cache, () -> out.println("mounted " + server + " on " + mountPoint));
    } catch (RuntimeException | LinkageError e) {
      if (cache != null) {
        cache.close();
      }
      session.close();
      throw e;
    }
    CountDownLatch ended = new CountDownLatch(1);
    stopOnSignals(fs, ended);
    try {
      fs.mount(mountPoint, true, false, kernelOptions().toArray(String[]::new));
    } catch (FuseException e) {
      log.error("could not mount {} on {} (libfuse says why above): {}", server, mountPoint, e.getMessage());
      return 1;
    } finally {
      fs.unmounted();
      fs.end();
      ended.countDown();
    }
    out.println("unmounted " + mountPoint);
    return 0;
  }

  /**
   * SIGTERM, SIGINT and SIGHUP unmount: the JVM's own handlers would only run exit hooks while
   * libfuse's loop still served, and libfuse installs its handlers only where none is set.
   */
  @SuppressWarnings("sunapi")
  private void stopOnSignals(DafsFuse fs, CountDownLatch ended) {
    sun.misc.SignalHandler handler = sig -> {
      Thread stop = new Thread(() -> stop(fs, ended), "dafs-mount-stop");
      stop.setDaemon(false);
      stop.start();
    };
    for (String name : List.of("TERM", "INT", "HUP")) {
      sun.misc.Signal.handle(new sun.misc.Signal(name), handler);
    }
  }

  private void stop(DafsFuse fs, CountDownLatch ended) {
    log.info("unmounting {}", mountPoint);
    unmountLazily();
    try {
      if (ended.await(GRACE_SECONDS, TimeUnit.SECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.warn("files are still open on {} after {} s: writing them back and exiting", mountPoint, GRACE_SECONDS);
    fs.end();
    out.println("unmounted " + mountPoint);
    System.exit(0);
  }

  private void unmountLazily() {
    try {
      Process p = new ProcessBuilder("fusermount", "-u", "-z", mountPoint.toString()).redirectErrorStream(true).start();
      String said = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
      if (p.waitFor() != 0) {
        log.warn("fusermount -u -z {}: {}", mountPoint, said);
      }
    } catch (IOException e) {
      log.error("cannot run fusermount (apt-get install fuse): {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
