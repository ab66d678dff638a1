package org.cachedafs.cache;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A child JVM the test talks to line by line: the server from its jar, or a client process. */
final class ManagedProcess implements AutoCloseable {
  final Process process;
  private final BufferedWriter in;
  final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
  final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  final List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());

  /** Whether the process reads commands on stdin (clients) or is stopped by SIGTERM (the server). */
  private final boolean commandDriven;

  private ManagedProcess(List<String> command, boolean commandDriven) throws IOException {
    this(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start(), commandDriven);
  }

  private ManagedProcess(Process process, boolean commandDriven) {
    this.commandDriven = commandDriven;
    this.process = process;
    in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          all.add(line);
          (line.startsWith("event ") ? events : replies).add(line);
        }
      } catch (IOException ignored) {
        // The process ended.
      }
    }, "managed-process-reader");
    reader.setDaemon(true);
    reader.start();
  }

  /** The suite's transport, passed on to client processes, so that they run where the suite does. */
  static String transportProperty() {
    return "-Dcachedafs.transport=" + System.getProperty("cachedafs.transport", "auto");
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The server from its built jar, with the given lease; returns once it listens. */
  static ManagedProcess server(Path export, long leaseMillis) throws Exception {
    return server(List.of("--export", export.toString(), "--listen", "tcp://127.0.0.1:0", "--lease-ms", Long.toString(leaseMillis)));
  }

  /** The server from its built jar with these arguments (at least the export and where to listen); returns once it listens. */
  static ManagedProcess server(List<String> args) throws Exception {
    Path jar = Path.of(System.getProperty("dafs.server.jar", "../dafsserver/target/dafs-server.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("the server jar is built before integration tests: " + jar.toAbsolutePath());
    }
    // These tests read the export directly to see what reached the server and what is still only in
    // a client's cache: a local reader the local-writer fence would otherwise hold and serve coherently
    // (recalling the delegation first), which is the fence's job and not what they check.
    List<String> command = new ArrayList<>(List.of(java(), "-jar", jar.toString()));
    command.addAll(args);
    command.add("--no-local-fence");
    ManagedProcess p = new ManagedProcess(command, false);
    p.awaitReply("listening on ");
    return p;
  }

  /** A {@link DelegationClientMain} process connected to {@code uri}. */
  static ManagedProcess client(URI uri) throws Exception {
    return client(DelegationClientMain.class, uri);
  }

  /** A client process running {@code main} (which prints "ready", then answers commands) against {@code uri}. */
  static ManagedProcess client(Class<?> main, URI uri) throws Exception {
    return client(main, List.of(uri.toString()));
  }

  /** A client process running {@code main} with {@code args} (which prints "ready", then answers commands). */
  static ManagedProcess client(Class<?> main, List<String> args) throws Exception {
    return client(main, List.of(), args);
  }

  /** A client process as {@link #client(Class, List)}, with these JVM options too. */
  static ManagedProcess client(Class<?> main, List<String> jvmOptions, List<String> args) throws Exception {
    List<String> command = new ArrayList<>(List.of(java(), transportProperty()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(args);
    ManagedProcess p = new ManagedProcess(command, true);
    p.awaitReply("ready");
    return p;
  }

  /** A client process started by someone else (in a host of the fault rig): it prints "ready", then answers commands. */
  static ManagedProcess client(Process started) throws Exception {
    ManagedProcess p = new ManagedProcess(started, true);
    p.awaitReply("ready");
    return p;
  }

  /** Its threads' stacks (jstack), for a test that gives up waiting on it. */
  String threads() {
    try {
      Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstack").toString(), Long.toString(process.pid()))
          .redirectErrorStream(true).start();
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "no thread dump: " + e;
    }
  }

  /** Sends the process a signal by name ({@code STOP}, {@code CONT}), as kill(1) does. */
  void signal(String name) throws Exception {
    int exit = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
    if (exit != 0) {
      throw new IllegalStateException("kill -" + name + " " + process.pid() + " exited with " + exit);
    }
  }

  String awaitReply(String prefix) throws InterruptedException {
    while (true) {
      String line = replies.poll(60, TimeUnit.SECONDS);
      if (line == null) {
        throw new AssertionError("no line starting with '" + prefix + "' within 60 s; output so far: " + all);
      }
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  /** Sends a command and returns its reply line. */
  String call(String command) throws Exception {
    send(command);
    return reply(command);
  }

  /** Sends a command without waiting for its reply: {@link #reply} takes it later. */
  void send(String command) throws IOException {
    in.write(command);
    in.newLine();
    in.flush();
  }

  /** The next reply line if it comes within {@code millis}, else null (then {@link #reply} takes it later). */
  String pollReply(long millis) throws InterruptedException {
    return replies.poll(millis, TimeUnit.MILLISECONDS);
  }

  /** The next reply line, to {@code command} sent before. */
  String reply(String command) throws InterruptedException {
    String r = replies.poll(60, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("no reply to '" + command + "' within 60 s; output so far: " + all);
    }
    return r;
  }

  /** Sends a command that must succeed. */
  String ok(String command) throws Exception {
    String r = call(command);
    if (!r.startsWith("ok ")) {
      throw new AssertionError("'" + command + "' failed: " + r + "; output so far: " + all);
    }
    return r;
  }

  String awaitEvent(String prefix) throws InterruptedException {
    while (true) {
      String line = events.poll(60, TimeUnit.SECONDS);
      if (line == null) {
        throw new AssertionError("no event '" + prefix + "' within 60 s; output so far: " + all);
      }
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  static long field(String line, String name) {
    for (String w : line.split(" ")) {
      if (w.startsWith(name + "=")) {
        return Long.parseLong(w.substring(name.length() + 1));
      }
    }
    throw new AssertionError("no " + name + "= in " + line);
  }

  URI listeningUri() {
    for (String l : all) {
      if (l.startsWith("listening on ")) {
        return URI.create(l.substring("listening on ".length()));
      }
    }
    throw new IllegalStateException("not listening");
  }

  void kill() throws InterruptedException {
    process.destroyForcibly(); // SIGKILL: no goodbye, no flush, no SESSION_DESTROY
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      if (commandDriven) {
        try {
          in.write("quit");
          in.newLine();
          in.flush();
        } catch (IOException ignored) {
          // Already gone.
        }
      } else {
        process.toHandle().destroy(); // SIGTERM: the server stops cleanly
      }
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.toHandle().destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    }
  }
}
