package org.cachedafs.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The NFS comparison peer: NFS-Ganesha and rpcbind in a network namespace with only {@code lo},
 * exporting the runner's export directory, run by {@code bench/nfs-peer.sh}. The NFS client runs in a
 * {@link WorkerMain} started inside that namespace, the only place the peer can be reached.
 */
final class NfsPeer implements AutoCloseable {
  private final Path script;
  private final Path export;

  private NfsPeer(Path script, Path export) {
    this.script = script;
    this.export = export;
  }

  /** Why the peer cannot run here, or null if its setup is present. */
  static String unavailable(Path script) {
    if (!Files.isRegularFile(script)) {
      return "no script at " + script.toAbsolutePath() + " (run from the project's root, or pass --nfs-script)";
    }
    try {
      Outcome o = run(List.of("bash", script.toString(), "available"), 30);
      return o.exit == 0 ? null : o.output.strip();
    } catch (IOException e) {
      return e.getMessage();
    }
  }

  /** Installs the packages if {@code install} and they are missing, then starts the peer on {@code export}. */
  static NfsPeer start(Path script, Path export, boolean install) throws IOException {
    if (install) {
      Outcome o = run(List.of("bash", script.toString(), "install"), 600);
      if (o.exit != 0) {
        throw new IOException("nfs-peer.sh install failed:\n" + o.output);
      }
    }
    Outcome o = run(List.of("bash", script.toString(), "start", export.toAbsolutePath().toString()), 120);
    if (o.exit != 0) {
      throw new IOException("nfs-peer.sh start failed:\n" + o.output);
    }
    return new NfsPeer(script, export);
  }

  /** What goes before {@code java} to run a client inside the peer's namespace. */
  List<String> execPrefix() {
    return List.of("bash", script.toString(), "exec");
  }

  String host() {
    return "127.0.0.1";
  }

  String exportPath() {
    return export.toAbsolutePath().toString();
  }

  /** Stops the peer; a stop that fails is an error, since daemons left running hold the export. */
  @Override
  public void close() throws IOException {
    Outcome o = run(List.of("bash", script.toString(), "stop"), 60);
    if (o.exit != 0) {
      throw new IOException("nfs-peer.sh stop failed (see `bash " + script + " status`):\n" + o.output);
    }
  }

  private record Outcome(int exit, String output) {}

  private static Outcome run(List<String> cmd, long timeoutSeconds) throws IOException {
    // The output goes to a file, not a pipe: a daemon the script leaves running could inherit a pipe
    // and keep it open, and a script that hangs must not hang the reader; the timeout covers both.
    Path out = Files.createTempFile("nfs-peer", ".out");
    try {
      Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      try {
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IOException(String.join(" ", cmd) + " did not end within " + timeoutSeconds + " s:\n" + Files.readString(out));
        }
        return new Outcome(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
        throw new IOException("interrupted", e);
      }
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
