package org.cachedafs.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A network of hosts on this machine for fault tests: a server host and N client hosts, each a network
 * namespace with one link to a shared bridge, where partitions and slow links are made. The plumbing
 * is {@code dafsserver/faultrig.sh} (its header says how and why); this class runs it, starts
 * processes in the hosts, and undoes everything it made.
 *
 * <p>Cleanup: each rig's namespaces are named {@code cdafs-PID-RANDOM-HOST} after this JVM, so that
 * {@link #start} first removes what runs of JVMs that are gone left behind; {@link #close} kills every
 * process started in the rig and deletes its namespaces; a shutdown hook does the same if the JVM
 * exits without closing it. A JVM killed by SIGKILL runs no hook: the next rig's start sweeps its run.
 *
 * <p>Where a rig cannot be made (not root, no {@code nft} or {@code tc}, no bridge or veth support),
 * {@link #start} throws, saying what is missing: fault tests fail then, they are not skipped.
 */
public final class FaultRig implements AutoCloseable {
  /** The server's port on its host; the same on every run, since every run has hosts of its own. */
  public static final int SERVER_PORT = 5450;

  /** A host of the rig: {@code srv} or {@code c1}, {@code c2}, ... */
  public record Host(String name, String address) {
    @Override
    public String toString() {
      return name + "(" + address + ")";
    }
  }

  private final Path script;
  private final Path work;
  private final String run;
  private final Host server;
  private final List<Host> clients;
  private final Path secretFile;
  private final byte[] secret;
  private final List<Process> started = new CopyOnWriteArrayList<>();
  private final Thread hook;
  private volatile boolean closed;

  private FaultRig(Path script, Path work, String run, int clientCount) throws IOException {
    this.script = script;
    this.work = work;
    this.run = run;
    this.server = new Host("srv", sh("addr", "srv").strip());
    List<Host> cs = new ArrayList<>();
    for (int i = 1; i <= clientCount; i++) {
      cs.add(new Host("c" + i, sh("addr", "c" + i).strip()));
    }
    this.clients = List.copyOf(cs);
    this.secret = ("rig-secret-" + Long.toHexString(ThreadLocalRandom.current().nextLong())).getBytes(StandardCharsets.UTF_8);
    this.secretFile = work.resolve("secret");
    Files.write(secretFile, secret);
    this.hook = new Thread(this::tearDown, "fault-rig-cleanup-" + run);
  }

  /**
   * Removes what earlier runs left, then makes a rig with a server host and {@code clients} client
   * hosts.
   *
   * @throws IllegalStateException if a rig cannot be made here, saying why
   */
  public static FaultRig start(int clients) throws IOException {
    Path work = Files.createTempDirectory("faultrig-");
    Path script = work.resolve("faultrig.sh");
    try (InputStream in = FaultRig.class.getResourceAsStream("faultrig.sh")) {
      if (in == null) {
        throw new IllegalStateException("faultrig.sh is not on the test class path (dafsserver's pom copies it there)");
      }
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    Result available = run(script, List.of("available"));
    if (available.code != 0) {
      deleteTree(work);
      throw new IllegalStateException("the fault rig cannot run here: " + available.output.strip().replace("faultrig: cannot make a rig here: ", "")
          + " (the rig tests need root, iproute2, nftables and tc: docs/operations.md, \"The fault rig\")");
    }
    Result swept = run(script, List.of("sweep"));
    if (swept.code != 0) {
      throw new IOException("faultrig.sh sweep failed: " + swept.output);
    }
    String name = "cdafs-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000));
    FaultRig rig = new FaultRig(script, work, name, clients);
    Runtime.getRuntime().addShutdownHook(rig.hook);
    try {
      rig.sh("up", name, Integer.toString(clients));
    } catch (IOException | RuntimeException e) {
      rig.close();
      throw e;
    }
    return rig;
  }

  public Host server() {
    return server;
  }

  /** Client host {@code i}, from 1. */
  public Host client(int i) {
    return clients.get(i - 1);
  }

  /** Host {@code i}: 0 is the server, 1 to N the clients. */
  public Host host(int i) {
    return i == 0 ? server : client(i);
  }

  /** The run's name, the prefix of its namespaces. */
  public String name() {
    return run;
  }

  /** The file holding the secret the rig's server is started with. */
  public Path secretFile() {
    return secretFile;
  }

  public byte[] secret() {
    return secret.clone();
  }

  /** The URI of a server started by {@link #startServer}. */
  public URI serverUri() {
    return URI.create("dafs://" + server.address() + ":" + SERVER_PORT);
  }

  /**
   * Starts {@code command} in {@code host}'s namespace, with its standard output piped to the caller
   * and standard error inherited. The process is killed by {@link #close} if still running.
   */
  public Process exec(Host host, List<String> command) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), "exec", run, host.name()));
    cmd.addAll(command);
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    started.add(p);
    return p;
  }

  /** A command that runs {@code main} in a JVM with this JVM's class path, after {@code jvmOptions}. */
  public static List<String> java(List<String> jvmOptions, String main, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Drops every frame to and from {@code host} on the wire, until {@link #heal}. */
  public void partition(Host host) throws IOException {
    sh("partition", run, host.name());
  }

  public void heal(Host host) throws IOException {
    sh("heal", run, host.name());
  }

  /** Limits {@code host}'s link to {@code rate} ({@code "2mbit"}, {@code "512kbit"}) both ways, until {@link #fast}. */
  public void slow(Host host, String rate) throws IOException {
    sh("slow", run, host.name(), rate);
  }

  public void fast(Host host) throws IOException {
    sh("fast", run, host.name());
  }

  /**
   * Starts the server CLI on the server host, listening on {@link #serverUri} with the rig's secret,
   * exporting {@code export} with {@code leaseMillis} and a state directory in the rig's work
   * directory (so that a restart finds its handle key and client records, and nothing of the rig's
   * stays behind); returns once it listens. Local writers are not fenced: the tests read the export
   * directly to see what reached the server, which the fence would otherwise serve coherently by
   * recalling delegations first.
   */
  public Server startServer(Path export, long leaseMillis, String... options) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("--export", export.toString(), "--listen", "tcp://" + server.address() + ":" + SERVER_PORT,
        "--secret-file", secretFile.toString(), "--lease-ms", Long.toString(leaseMillis), "--no-shm",
        "--state-dir", work.resolve("server-state").toString(), "--no-local-fence"));
    args.addAll(List.of(options));
    Server s = new Server(args);
    s.start();
    return s;
  }

  /**
   * The server CLI in the server host. {@link #kill} is {@code kill -9}; {@link #restart} starts it
   * again with the same arguments: the same export, address and port.
   */
  public final class Server {
    private final List<String> args;
    private volatile Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private Server(List<String> args) {
      this.args = List.copyOf(args);
    }

    private void start() throws IOException, InterruptedException {
      Path jar = Path.of(System.getProperty("dafs.server.jar", "../dafsserver/target/dafs-server.jar"));
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException("the server jar is built before the rig's tests: " + jar.toAbsolutePath());
      }
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
          jar.toAbsolutePath().toString()));
      cmd.addAll(args);
      lines.clear();
      Process p = exec(server, cmd);
      process = p;
      Thread reader = new Thread(() -> {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = out.readLine()) != null) {
            lines.add(line);
          }
        } catch (IOException ignored) {
          // The server went away.
        }
        lines.add("exited");
      }, "rig-server-stdout");
      reader.setDaemon(true);
      reader.start();
      List<String> seen = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        String line = lines.poll(1, TimeUnit.SECONDS);
        if (line == null) {
          continue;
        }
        seen.add(line);
        if (line.startsWith("listening on ")) {
          return;
        }
        if (line.equals("exited")) {
          break;
        }
      }
      p.destroyForcibly();
      throw new IOException("the server in " + server + " did not start listening: " + seen);
    }

    public Process process() {
      return process;
    }

    /** {@code kill -9}: no goodbye to any client, nothing flushed; returns once it is gone. */
    public void kill() throws InterruptedException {
      process.destroyForcibly();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the server survived SIGKILL for 30 s");
      }
    }

    /** Starts it again, as it was started: the same export, address, port and options. */
    public void restart() throws IOException, InterruptedException {
      if (process.isAlive()) {
        throw new IllegalStateException("the server still runs: kill or stop it first");
      }
      start();
    }

    /** SIGTERM: the server ends its sessions and exits. */
    public void stop() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(20, TimeUnit.SECONDS);
      }
    }
  }

  /** Kills whatever it started, deletes its namespaces and its work directory. Idempotent. */
  @Override
  public void close() {
    tearDown();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // The hook is running or has run.
    }
  }

  private synchronized void tearDown() {
    if (closed) {
      return;
    }
    closed = true;
    for (Process p : started) {
      p.destroyForcibly();
    }
    try {
      Result r = run(script, List.of("down", run));
      if (r.code != 0) {
        System.err.println("faultrig: down " + run + " failed: " + r.output);
      }
    } catch (IOException e) {
      System.err.println("faultrig: down " + run + " failed: " + e);
    }
    deleteTree(work);
  }

  private String sh(String... args) throws IOException {
    Result r = run(script, List.of(args));
    if (r.code != 0) {
      throw new IOException("faultrig.sh " + String.join(" ", args) + " failed (" + r.code + "): " + r.output.strip());
    }
    return r.output;
  }

  private record Result(int code, String output) {}

  private static Result run(Path script, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("faultrig.sh " + args + " did not finish within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return new Result(p.exitValue(), out);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      System.err.println("faultrig: could not remove " + dir + ": " + e);
    }
  }
}
