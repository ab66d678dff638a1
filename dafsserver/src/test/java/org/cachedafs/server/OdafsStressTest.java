package org.cachedafs.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ODAFS under fire, every party a process of its own: a server whose exported cache is small (1 MiB,
 * 248 slots, for twice as many blocks: eviction never stops), writer clients that rewrite, truncate,
 * remove and re-create stamped files, a local writer that rewrites and truncates its files on the
 * export directly (seen through the server's local-writer fence), and reader clients that read them with ODAFS and check every
 * byte for tearing and staleness ({@link OdafsStressWorker}). No bad read may ever be accepted; the one
 * torn read allowed is one the server answered by RPC while a local change to the file was under way,
 * which the file system does not make atomic (counted apart). The number of reads is printed;
 * {@code -Psoak} runs ten million and more.
 */
class OdafsStressTest {
  private static final boolean SOAK = Boolean.getBoolean("cachedafs.soak");
  @TempDir Path tmp;

  @Test
  void noTornOrStaleBlockIsEverAccepted() throws Exception {
    String transport = System.getProperty("cachedafs.transport", "auto");
    boolean tcp = transport.equals("tcp");
    int readers = 3;
    int writers = 3; // the last one a local writer, on the export's files behind the server's back
    long target = SOAK ? 12_000_000 : tcp ? 300_000 : 1_000_000;
    long seconds = SOAK ? 1800 : tcp ? 40 : 60;
    Path export = Files.createDirectories(tmp.resolve("export"));
    Path ledger = tmp.resolve("ledger");
    Files.write(ledger, new byte[(int) OdafsStressWorker.ledgerBytes()]);
    Path stop = tmp.resolve("stop");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("java.class.path");
    Process server = new ProcessBuilder(java, "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-cp", cp, ServerMain.class.getName(), "--export", export.toString(),
        "--listen", "tcp://127.0.0.1:0", "--exported-cache-mib", "1", "--exported-block-kib", "4")
        .redirectError(tmp.resolve("server.stderr").toFile()).start();
    List<Process> clients = new ArrayList<>();
    try {
      String uri = listening(server);
      // The local writer's changes are seen only through the server's local-writer fence (root).
      assertEquals(1, Files.readAllLines(tmp.resolve("server.stderr")).stream().filter(l -> l.contains("local writers are fenced")).count(),
          "the server does not fence local writers (it needs CAP_SYS_ADMIN): " + Files.readString(tmp.resolve("server.stderr")));
      for (int w = 0; w < writers; w++) {
        boolean local = w == writers - 1;
        clients.add(worker(java, cp, local ? "local" : "writer", uri, transport, ledger, stop, seconds + 30, w, writers,
            local ? export.toString() : "0"));
      }
      List<Process> readerProcesses = new ArrayList<>();
      for (int r = 0; r < readers; r++) {
        Process p = worker(java, cp, "reader", uri, transport, ledger, stop, seconds, r, readers, Long.toString(target / readers));
        readerProcesses.add(p);
        clients.add(p);
      }
      long reads = 0;
      long bad = 0;
      long strict = 0;
      long odafs = 0;
      long tornByLocal = 0;
      StringBuilder out = new StringBuilder();
      for (Process p : readerProcesses) {
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(seconds + 120, TimeUnit.SECONDS), "a reader did not finish");
        out.append(text);
        Matcher m = Pattern.compile("reader reads=(\\d+) strict=(\\d+) bad=(\\d+) odafs=(\\d+) tornByLocal=(\\d+)").matcher(text);
        assertTrue(m.find(), "a reader said: " + text + " (exit " + p.exitValue() + ")");
        reads += Long.parseLong(m.group(1));
        strict += Long.parseLong(m.group(2));
        bad += Long.parseLong(m.group(3));
        odafs += Long.parseLong(m.group(4));
        tornByLocal += Long.parseLong(m.group(5));
      }
      Files.createFile(stop);
      for (Process p : clients) {
        if (!readerProcesses.contains(p)) {
          String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          assertTrue(p.waitFor(60, TimeUnit.SECONDS));
          out.append(text);
          assertEquals(0, p.exitValue(), "a writer failed: " + text + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        }
      }
      System.out.printf("ODAFS stress on %s: %d reads checked (%d against an unchanged ledger state), %d served by one-sided reads, %d bad"
          + " (%d RPC reads torn by a local change under way, allowed)%n%s", transport, reads, strict, odafs, bad, tornByLocal, out);
      assertEquals(0, bad, out.toString());
      assertTrue(odafs > 0, "no read was served by the exported cache: " + out);
      assertTrue(strict > 0, out.toString());
    } finally {
      for (Process p : clients) {
        p.destroyForcibly();
      }
      server.destroy();
      server.waitFor(20, TimeUnit.SECONDS);
    }
  }

  private static Process worker(String java, String cp, String role, String uri, String transport, Path ledger, Path stop, long seconds,
      int index, int count, String last) throws IOException {
    return new ProcessBuilder(java, "-Xmx128m", "-Xss512k", "-cp", cp, OdafsStressWorker.class.getName(),
        role, uri, transport, ledger.toString(), stop.toString(), Long.toString(seconds), Integer.toString(index), Integer.toString(count),
        last)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static String listening(Process server) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("listening on ")) {
        Thread drain = new Thread(() -> {
          try {
            while (out.readLine() != null) {
              // keep the pipe from filling
            }
          } catch (IOException ignored) {
            // the server went away
          }
        });
        drain.setDaemon(true);
        drain.start();
        return line.substring("listening on ".length());
      }
    }
    throw new IOException("the server exited before listening");
  }
}
