package org.cachedafs.nio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedFileSystemException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jnr.constants.platform.Errno;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.posix.DafsPosix;
import org.cachedafs.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, defect 7, over real processes: the server (its CLI, from its jar) is killed with SIGKILL and
 * a fresh one started on the same port with no grace period ({@code --grace-ms 0}), so the sessions,
 * which hold opens, cannot reclaim them (with grace they would ride through: {@code RestartProcessIT}
 * in the cache module). The client's file system must say it is dead, say why, and let a new one take
 * its place.
 */
class DeadFileSystemIT {
  private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(120);

  @TempDir Path tmp;

  /** The server from its jar, listening on {@code port} (0 for any); returns once it listens, with its port. */
  record Server(Process process, int port) implements AutoCloseable {
    static Server start(Path export, int port, String... options) throws IOException {
      Path jar = Path.of(System.getProperty("dafs.server.jar", "../dafsserver/target/dafs-server.jar"));
      assertTrue(Files.isRegularFile(jar), "the server jar is built before integration tests: " + jar.toAbsolutePath());
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
          "--export", export.toString(), "--listen", "tcp://127.0.0.1:" + port));
      cmd.addAll(List.of(options));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      List<String> lines = new ArrayList<>();
      String line;
      while ((line = out.readLine()) != null) {
        lines.add(line);
        if (line.startsWith("listening on ")) {
          Thread drain = new Thread(() -> {
            try {
              while (out.readLine() != null) {
                // The server's log, not needed past its start.
              }
            } catch (IOException ignored) {
              // It exited.
            }
          }, "server-output");
          drain.setDaemon(true);
          drain.start();
          return new Server(p, URI.create(line.substring("listening on ".length())).getPort());
        }
      }
      p.destroyForcibly();
      throw new IOException("the server exited before listening: " + lines);
    }

    /** Like {@link #start}, trying again while the port is still held by the killed server's sockets. */
    static Server restart(Path export, int port, String... options) throws Exception {
      long deadline = System.nanoTime() + DEADLINE_NANOS;
      while (true) {
        try {
          return start(export, port, options);
        } catch (IOException e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(200);
        }
      }
    }

    void kill() throws InterruptedException {
      process.destroyForcibly(); // SIGKILL: no session is destroyed, no socket closed by the server
      assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    }

    @Override
    public void close() throws InterruptedException {
      kill();
    }
  }

  @Test
  void aFileSystemWhoseSessionDiedSaysSoAndIsReplaced() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    Map<String, String> env = Map.of("cache.size", "8m");
    Server first = Server.start(export, 0);
    URI uri = URI.create("dafs://127.0.0.1:" + first.port() + "/");
    FileSystem fs = FileSystems.newFileSystem(uri, env);
    DafsSession posixSession = DafsClient.connect(URI.create("dafs://127.0.0.1:" + first.port()), ClientOptions.defaults());
    CacheManager posixCache = CacheManager.create(posixSession, CacheConfig.defaults().withCapacity(8 << 20).withSlabBytes(8 << 20));
    DafsPosix posix = new DafsPosix();
    String mount = "/dafs-dead-mount-" + System.nanoTime();
    posix.mount(mount, posixCache);
    FileSystem fresh = null;
    Server second = null;
    try {
      Files.writeString(fs.getPath("/f"), "before");
      FileChannel open = FileChannel.open(fs.getPath("/f"), StandardOpenOption.READ);
      assertTrue(fs.isOpen());
      int fd = posix.open(mount + "/f", 0); // O_RDONLY: the mount's session holds an open too
      assertTrue(fd >= 0, "errno " + posix.errno());

      first.kill();
      second = Server.restart(export, first.port(), "--grace-ms", "0");

      long deadline = System.nanoTime() + DEADLINE_NANOS;
      while (fs.isOpen() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertFalse(fs.isOpen(), "the file system still says it is open after its server restarted");

      String where = "the session with dafs://127.0.0.1:" + first.port() + " was lost: ";
      ClosedFileSystemException closed = assertThrows(ClosedFileSystemException.class, () -> Files.readString(fs.getPath("/f")));
      assertTrue(closed.getMessage().startsWith(where + Status.NO_GRACE.name()), closed.getMessage());
      IOException onChannel = assertThrows(IOException.class, () -> open.read(java.nio.ByteBuffer.allocate(10), 0));
      assertTrue(onChannel.getMessage().contains(where), onChannel.getMessage());
      FileSystemNotFoundException notFound = assertThrows(FileSystemNotFoundException.class, () -> FileSystems.getFileSystem(uri));
      assertTrue(notFound.getMessage().contains(where), notFound.getMessage());

      fresh = FileSystems.newFileSystem(uri, env);
      assertNotSame(fs, fresh);
      assertTrue(fresh.isOpen());
      assertEquals("before", Files.readString(fresh.getPath("/f")));
      Files.writeString(fresh.getPath("/g"), "after");
      assertSame(fresh, FileSystems.getFileSystem(uri));
      assertSame(fresh, Path.of(URI.create("dafs://127.0.0.1:" + first.port() + "/g")).getFileSystem());
      // The old one, replaced (and so closed), still says why it stopped.
      closed = assertThrows(ClosedFileSystemException.class, () -> Files.exists(fs.getPath("/f")));
      assertTrue(closed.getMessage().startsWith(where), closed.getMessage());

      // The facade: the dead mount fails with EIO, its session says why, and a new mount replaces it.
      assertFalse(posixSession.isOpen());
      assertEquals(Status.NO_GRACE, posixSession.failure().orElseThrow().status());
      assertNull(posix.stat(mount + "/f"));
      assertEquals(Errno.EIO.intValue(), posix.errno());
      posixCache.close();
      posixSession.close();
      posixSession = DafsClient.connect(URI.create("dafs://127.0.0.1:" + first.port()), ClientOptions.defaults());
      posixCache = CacheManager.create(posixSession, CacheConfig.defaults().withCapacity(8 << 20).withSlabBytes(8 << 20));
      posix.mount(mount, posixCache);
      assertEquals(5, posix.stat(mount + "/g").size());
      open.close();
    } finally {
      posix.close();
      posixCache.close();
      posixSession.close();
      if (fresh != null) {
        fresh.close();
      }
      try {
        fs.close();
      } catch (IOException e) {
        // Its channel's close could not reach the server: expected of a dead file system not yet replaced.
      }
      if (second != null) {
        second.close();
      } else {
        first.close();
      }
    }
  }
}
