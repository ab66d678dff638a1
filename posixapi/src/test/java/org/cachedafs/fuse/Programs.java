package org.cachedafs.fuse;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The unmodified programs the mount's tests run, found on the PATH. A missing one fails its test
 * saying what to install (.ci/run installs them all), rather than skipping it.
 */
final class Programs {
  private Programs() {}

  /** What a program did: its exit code and what it printed. */
  record Result(int exit, String out, String err) {
    Result expectSuccess(String what) {
      assertTrue(exit == 0, what + " exited " + exit + "\nstdout: " + tail(out) + "\nstderr: " + tail(err));
      return this;
    }
  }

  private static String tail(String s) {
    return s.length() <= 4000 ? s : "..." + s.substring(s.length() - 4000);
  }

  /** The program's path; fails the test naming the Debian package if it is not installed. */
  static String require(String program, String debianPackage) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, program);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return fail(program + " is not installed: apt-get install -y " + debianPackage + " (.ci/run installs it before the tests)");
  }

  /** Runs {@code cmd} in {@code dir}, its input from {@code stdin} (or none), for at most {@code seconds}. */
  static Result run(Path dir, Path stdin, long seconds, List<String> cmd) throws IOException, InterruptedException {
    Path out = Files.createTempFile("program-", ".out");
    Path err = Files.createTempFile("program-", ".err");
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
      pb.redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new File("/dev/null")) : ProcessBuilder.Redirect.from(stdin.toFile()));
      Process p = pb.start();
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        fail(cmd + " did not finish in " + seconds + " s; stderr: " + Files.readString(err));
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
