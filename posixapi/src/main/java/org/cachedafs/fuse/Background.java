package org.cachedafs.fuse;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A mount that goes into the background the way a JVM can: it starts itself again with
 * {@code --foreground} as a process of its own (in a session of its own where {@code setsid} exists,
 * so a closing terminal does not stop it), passes on what that process prints until it says the mount
 * is in place, and leaves it running. If the process ends first, its exit code is this one's.
 */
final class Background {
  private Background() {}

  static int start(String[] args, PrintStream out) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    Path setsid = Path.of("/usr/bin/setsid");
    if (Files.isExecutable(setsid)) {
      cmd.add(setsid.toString());
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MountMain.class.getName()));
    cmd.addAll(List.of(args));
    cmd.add("--foreground");
    // Its log goes where ours does; its standard output only until it is mounted.
    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = lines.readLine()) != null) {
      out.println(line);
      if (line.startsWith("mounted ")) {
        out.println("serving in the background as process " + p.pid());
        return 0;
      }
    }
    return p.waitFor();
  }
}
