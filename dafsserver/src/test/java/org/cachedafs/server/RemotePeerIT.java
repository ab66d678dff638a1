package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client on another host: a network namespace of the test's own, joined to this one by a veth pair
 * on a private /30. A server without a secret refuses it (it serves loopback only); a server with a
 * secret serves it. Needs root and iproute2; skipped, saying why, where a namespace cannot be made.
 */
class RemotePeerIT {
  @TempDir Path tmp;
  String ns;
  String hostIf;
  String hostAddress;
  String peerAddress;

  static int sh(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }

  @BeforeEach
  void makeHost() throws Exception {
    int x = ThreadLocalRandom.current().nextInt(64, 250);
    ns = "dafs-it-" + ProcessHandle.current().pid();
    hostIf = "dafsh" + (ProcessHandle.current().pid() % 100000);
    hostAddress = "10.231." + x + ".1";
    peerAddress = "10.231." + x + ".2";
    boolean made = sh("ip", "netns", "add", ns) == 0;
    Assumptions.assumeTrue(made, "skipped: cannot create a network namespace here (needs root and iproute2)");
    String peerIf = hostIf + "p";
    boolean up = sh("ip", "link", "add", hostIf, "type", "veth", "peer", "name", peerIf) == 0
        && sh("ip", "link", "set", peerIf, "netns", ns) == 0
        && sh("ip", "addr", "add", hostAddress + "/30", "dev", hostIf) == 0
        && sh("ip", "link", "set", hostIf, "up") == 0
        && sh("ip", "netns", "exec", ns, "ip", "addr", "add", peerAddress + "/30", "dev", peerIf) == 0
        && sh("ip", "netns", "exec", ns, "ip", "link", "set", peerIf, "up") == 0
        && sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up") == 0;
    if (!up) {
      tearDown();
    }
    Assumptions.assumeTrue(up, "skipped: cannot set up a veth pair into the namespace");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (ns != null) {
      sh("ip", "link", "del", hostIf);
      sh("ip", "netns", "del", ns);
    }
  }

  String runClientInNamespace(String uri, String secret) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
        RemoteClientMain.class.getName(), uri));
    if (secret != null) {
      cmd.add(secret);
    }
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return out;
  }

  @Test
  void withoutASecretOnlyLoopbackIsServedAndWithOneAnotherHostIs() throws Exception {
    Path export = Files.createDirectories(tmp.resolve("export"));
    InetSocketAddress onHostSide = new InetSocketAddress(hostAddress, 0);
    try (DafsServer open = DafsServer.start(ServerOptions.of(export).withListen(onHostSide))) {
      String out = runClientInNamespace(open.uri().toString(), null);
      assertTrue(out.startsWith("error"), "a client on another host is refused: " + out);
      assertEquals(1, open.stats().refused());
      assertTrue(Files.notExists(export.resolve("from-another-host")));
    }
    byte[] secret = "shared-between-hosts".getBytes(StandardCharsets.UTF_8);
    try (DafsServer guarded = DafsServer.start(ServerOptions.of(export).withListen(onHostSide).withSecret(secret))) {
      assertEquals("error AUTH_FAILED", runClientInNamespace(guarded.uri().toString(), "not-the-secret"));
      assertEquals("ok", runClientInNamespace(guarded.uri().toString(), "shared-between-hosts"));
      assertTrue(Files.exists(export.resolve("from-another-host")));
    }
  }
}
