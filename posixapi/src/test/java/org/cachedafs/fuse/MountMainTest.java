package org.cachedafs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The mount's command line refuses what it cannot mount, saying why, before it mounts anything. */
class MountMainTest {
  @TempDir Path tmp;

  private record Run(int exit, String err) {}

  private static Run run(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new MountMain(args));
    cmd.setErr(new PrintWriter(err, true));
    return new Run(cmd.execute(args), err.toString());
  }

  private void refused(String why, String... args) {
    Run r = run(args);
    assertEquals(2, r.exit(), r.err());
    assertTrue(r.err().contains(why), "'" + why + "' in: " + r.err());
  }

  @Test
  void badArgumentsAreUsageErrorsThatSayWhy() throws Exception {
    String mnt = tmp.toString();
    refused("must look like dafs://HOST:PORT/", "tcp://127.0.0.1:1/", mnt, "--foreground");
    refused("must look like dafs://HOST:PORT/", "dafs://127.0.0.1/", mnt, "--foreground");
    refused("only a whole export can be mounted", "dafs://127.0.0.1:1/sub", mnt, "--foreground");
    refused("is not a directory", "dafs://127.0.0.1:1/", tmp.resolve("missing").toString(), "--foreground");
    refused("is not a size", "dafs://127.0.0.1:1/", mnt, "--cache-size", "lots", "--foreground");
    refused("at least 8 blocks", "dafs://127.0.0.1:1/", mnt, "--cache-size", "4k", "--foreground");
    Path empty = Files.writeString(tmp.resolve("secret"), "\n");
    refused("is empty", "dafs://127.0.0.1:1/", mnt, "--secret-file", empty.toString(), "--foreground");
  }

  @Test
  void aServerThatIsNotThereIsNamed() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    Run r = run("dafs://127.0.0.1:" + port + "/", tmp.toString(), "--foreground");
    assertEquals(1, r.exit(), r.err());
    assertTrue(r.err().contains("cannot reach dafs://127.0.0.1:" + port + "/"), r.err());
  }

  @Test
  void sizesTakeSuffixes() {
    assertEquals(4096, MountMain.size("4096"));
    assertEquals(64L << 10, MountMain.size("64k"));
    assertEquals(256L << 20, MountMain.size("256M"));
    assertEquals(2L << 30, MountMain.size(" 2g "));
    assertThrows(NumberFormatException.class, () -> MountMain.size("-1m"));
    assertThrows(NumberFormatException.class, () -> MountMain.size("m"));
  }
}
