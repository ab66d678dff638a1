package org.cachedafs.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A dafs-mount process ({@code posixapi/target/dafs-mount.jar}, docs/fuse.md) in the foreground on a
 * mount point of the runner's, which it owns with the secret file it was given: {@link #close}
 * unmounts ({@code fusermount -u}, lazily if something still holds the mount), waits for the process
 * and kills it if it will not end, and removes the secret file, whatever happened before. A shutdown
 * hook does the same for a runner stopped by a signal, so that no mount outlives it.
 */
final class FuseMount implements AutoCloseable {
  /** How long the mount may take to say it is mounted (a JVM start and a session), s. */
  private static final long MOUNT_SECONDS = 60;

  private final Process process;
  private final Path mountPoint;
  private final Path secretFile;
  private final Thread hook;
  private boolean closed;

  private FuseMount(Process process, Path mountPoint, Path secretFile) {
    this.process = process;
    this.mountPoint = mountPoint;
    this.secretFile = secretFile;
    this.hook = new Thread(this::unmountQuietly, "fuse-mount-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Why the runner cannot mount here, or null if it can: fio, {@code /dev/fuse}, {@code fusermount},
   * libfuse 2 and the mount jar must all be present.
   */
  static String unavailable(Path jar) {
    List<String> missing = new ArrayList<>();
    if (onPath("fio") == null) {
      missing.add("fio is not installed (apt-get install -y fio)");
    }
    if (!Files.exists(Path.of("/dev/fuse"))) {
      missing.add("there is no /dev/fuse (a container without the fuse device?)");
    }
    if (onPath("fusermount") == null) {
      missing.add("fusermount is not installed (apt-get install -y fuse)");
    }
    if (!libfuse2()) {
      missing.add("libfuse 2 is not installed (apt-get install -y libfuse2)");
    }
    if (!Files.isRegularFile(jar)) {
      missing.add("no mount jar at " + jar.toAbsolutePath() + " (build it: mvn -B package -DskipTests; or pass --mount-jar)");
    }
    return missing.isEmpty() ? null : String.join("; ", missing);
  }

  /** The program's path on the PATH, or null. */
  static String onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, program);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }

  /** Whether {@code libfuse.so.2}, which jnr-fuse loads, is in one of the usual library directories. */
  private static boolean libfuse2() {
    List<Path> dirs = new ArrayList<>();
    for (String d : List.of("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib")) {
      Path dir = Path.of(d);
      dirs.add(dir);
      // Debian's multiarch directories: /usr/lib/x86_64-linux-gnu and the like.
      try (var s = Files.newDirectoryStream(dir, "*-linux-gnu*")) {
        s.forEach(dirs::add);
      } catch (IOException | RuntimeException e) {
        // Not there: nothing to add.
      }
    }
    return dirs.stream().anyMatch(d -> Files.exists(d.resolve("libfuse.so.2")));
  }

  /**
   * Mounts {@code server}'s export on {@code mountPoint} (an empty directory) with a cache of
   * {@code cacheBytes}, the process's standard error going to {@code log}; returns once it says it is
   * mounted.
   */
  static FuseMount start(Path jar, URI server, byte[] secret, Path mountPoint, long cacheBytes, Path log) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        jar.toString(), "dafs://" + server.getAuthority() + "/", mountPoint.toString(), "--foreground", "--cache-size",
        Long.toString(cacheBytes)));
    Path secretFile = null;
    if (secret != null) {
      secretFile = Files.createTempFile("dafs-bench-mount-", ".secret",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.write(secretFile, secret);
      cmd.addAll(List.of("--secret-file", secretFile.toString()));
    }
    Files.createDirectories(log.getParent());
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    } catch (IOException e) {
      if (secretFile != null) {
        Files.deleteIfExists(secretFile);
      }
      throw e;
    }
    FuseMount m = new FuseMount(p, mountPoint, secretFile);
    try {
      m.awaitMounted(log);
      return m;
    } catch (IOException | RuntimeException e) {
      m.close();
      throw e;
    }
  }

  private void awaitMounted(Path log) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<List<String>> said = CompletableFuture.supplyAsync(() -> {
      List<String> seen = new ArrayList<>();
      try {
        String line;
        while ((line = out.readLine()) != null) {
          seen.add(line);
          if (line.startsWith("mounted ")) {
            return seen;
          }
        }
      } catch (IOException e) {
        // The process is gone: what it said so far is the answer.
      }
      return seen;
    });
    List<String> seen;
    try {
      seen = said.get(MOUNT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new IOException("dafs-mount did not mount within " + MOUNT_SECONDS + " s" + tail(log));
    } catch (ExecutionException e) {
      throw new IOException("dafs-mount: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while mounting");
    }
    if (seen.isEmpty() || !seen.get(seen.size() - 1).startsWith("mounted ")) {
      throw new IOException("dafs-mount exited before mounting: " + String.join(" | ", seen) + tail(log));
    }
    // Nothing more is needed from its standard output: it says one line more ("unmounted") when it ends.
    ServerProcess.drain(out, "fuse-mount-output");
  }

  private static String tail(Path log) throws IOException {
    List<String> err = Files.readAllLines(log);
    return err.isEmpty() ? "" : "; stderr: " + String.join(" | ", err.subList(Math.max(0, err.size() - 3), err.size()));
  }

  Path mountPoint() {
    return mountPoint;
  }

  /** Whether the kernel lists the mount point as mounted (a dead mount, after a crash, too). */
  private boolean mounted() throws IOException {
    String target = mountPoint.toAbsolutePath().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].equals(target)) {
        return true;
      }
    }
    return false;
  }

  private int fusermount(boolean lazy) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("fusermount", "-u"));
    if (lazy) {
      cmd.add("-z");
    }
    cmd.add(mountPoint.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

  /** Unmounts, then ends the process: by itself once unmounted, else killed after 30 s. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // Shutting down already: the hook is this call's caller or runs beside it.
    }
    try {
      if (mounted() && fusermount(false) != 0) {
        fusermount(true); // held open by something: at least out of the namespace, and the process ends
      }
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        if (mounted()) {
          fusermount(true); // the dead mount a killed process leaves behind
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IOException("interrupted while unmounting " + mountPoint);
    } finally {
      if (secretFile != null) {
        Files.deleteIfExists(secretFile);
      }
    }
  }

  private void unmountQuietly() {
    try {
      close();
    } catch (IOException | RuntimeException e) {
      process.destroyForcibly();
    }
  }
}
