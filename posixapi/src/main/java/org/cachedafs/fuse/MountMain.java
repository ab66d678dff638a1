package org.cachedafs.fuse;

import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.cachedafs.cache.CacheConfig;
import org.cachedafs.client.ClientOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The mount's command line: {@code java -jar dafs-mount.jar dafs://HOST:PORT/ MOUNTPOINT [--secret-file
 * FILE] [--cache-size SIZE] [--foreground]}. In the foreground it prints {@code mounted URI on
 * MOUNTPOINT} once the kernel has the mount and serves until unmounted; otherwise it starts itself in
 * the foreground as a process of its own, waits for that line, and exits 0 with the mount in place.
 */
@Command(name = "dafs-mount", mixinStandardHelpOptions = true, version = "dafs-mount 0.1.0",
    description = {"Mounts a DAFS server's export with FUSE, through the client cache.",
        "Unmount with 'fusermount -u MOUNTPOINT', or stop the process with SIGTERM: either writes back what the cache holds first."})
public final class MountMain implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "dafs://HOST:PORT/", description = "The server; its whole export is mounted.")
  URI server;

  @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "An existing directory.")
  Path mountPoint;

  @Option(names = "--secret-file", paramLabel = "FILE",
      description = "The secret the server was started with. Without it only a server on this host (over loopback) lets the mount in.")
  Path secretFile;

  @Option(names = "--cache-size", paramLabel = "SIZE", defaultValue = "256m",
      description = "The cache's memory, in bytes or with a k, m or g suffix (default: ${DEFAULT-VALUE}).")
  String cacheSize;

  @Option(names = "--foreground", description = "Stay in the foreground and serve until unmounted.")
  boolean foreground;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  private final String[] args;

  MountMain(String[] args) {
    this.args = args.clone();
  }

  @Override
  public Integer call() throws Exception {
    if (!"dafs".equalsIgnoreCase(server.getScheme()) || server.getHost() == null || server.getPort() < 0) {
      throw usage("the server must look like dafs://HOST:PORT/, not " + server);
    }
    if (server.getPath() != null && !server.getPath().isEmpty() && !server.getPath().equals("/")) {
      throw usage("only a whole export can be mounted: dafs://" + server.getAuthority() + "/, not " + server);
    }
    if (!Files.isDirectory(mountPoint)) {
      throw usage("the mount point " + mountPoint + " is not a directory");
    }
    long bytes;
    try {
      bytes = size(cacheSize);
    } catch (NumberFormatException e) {
      throw usage("--cache-size: " + cacheSize + " is not a size (bytes, or a number with k, m or g)");
    }
    CacheConfig config;
    try {
      config = CacheConfig.defaults().withCapacity(bytes);
    } catch (IllegalArgumentException e) {
      throw usage("--cache-size " + cacheSize + ": " + e.getMessage());
    }
    ClientOptions options = ClientOptions.defaults().withClientName("dafs-mount");
    if (secretFile != null) {
      byte[] secret = Files.readString(secretFile).strip().getBytes(StandardCharsets.UTF_8);
      if (secret.length == 0) {
        throw usage("the secret file " + secretFile + " is empty");
      }
      options = options.withSecret(secret);
    }
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    if (!foreground) {
      return Background.start(args, out);
    }
    try {
      return new Mount(URI.create("dafs://" + server.getAuthority() + "/"), mountPoint.toAbsolutePath(), options, config, out).run();
    } catch (LinkageError e) {
      spec.commandLine().getErr().println("dafs-mount: libfuse 2 cannot be loaded (apt-get install libfuse2 fuse): " + e.getMessage());
      return 1;
    } catch (java.io.IOException e) {
      spec.commandLine().getErr().println("dafs-mount: cannot reach " + server + ": " + e.getMessage());
      return 1;
    }
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  /** A size in bytes, or with a k, m or g suffix (powers of 1024). */
  static long size(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    int shift = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
      case 'k' -> 10;
      case 'm' -> 20;
      case 'g' -> 30;
      default -> 0;
    };
    long n = Long.parseLong(shift == 0 ? s : s.substring(0, s.length() - 1).trim());
    if (n < 0 || n > (Long.MAX_VALUE >> shift)) {
      throw new NumberFormatException(text);
    }
    return n << shift;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new MountMain(args)).execute(args));
  }
}
