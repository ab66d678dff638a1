package org.cachedafs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.cachedafs.transport.Region;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The project's main job until the benchmark runner lands: an embedded server on a temporary export
 * over real loopback tcp, and a short client session that writes and reads a file inline and direct
 * and checks every byte.
 */
@Command(name = "dafs-bench", mixinStandardHelpOptions = true,
    description = "Starts an embedded DAFS server on a temporary export and runs a short client demo against it.")
public final class DemoMain implements Callable<Integer> {
  @Option(names = "--size-mib", defaultValue = "64", description = "Size of the demo file in MiB (default: ${DEFAULT-VALUE}).")
  int sizeMib;

  @Override
  public Integer call() throws IOException {
    Path export = Files.createTempDirectory("dafs-demo-");
    try (DafsServer server = DafsServer.start(ServerOptions.of(export))) {
      System.out.println("embedded server listening on " + server.uri() + ", exporting " + export);
      try (DafsSession s = DafsClient.connect(server.uri(), ClientOptions.defaults().withClientName("demo"))) {
        System.out.printf("session %x: %d credits, lease %s%n", s.sessionId(), s.credits(), s.lease());
        int size = sizeMib << 20;
        byte[] data = new byte[size];
        new Random(2002).nextBytes(data);
        OpenFile f = s.open(s.root(), "demo.bin", OpenMode.readWrite().create(0644).truncate());

        long t0 = System.nanoTime();
        s.write(f, 0, ByteBuffer.wrap(data));
        long t1 = System.nanoTime();
        ByteBuffer inline = ByteBuffer.allocate(size);
        s.read(f, 0, inline);
        long t2 = System.nanoTime();
        ByteBuffer memory = ByteBuffer.allocateDirect(size);
        byte[] direct = new byte[size];
        try (Region region = s.register(memory)) {
          s.readDirect(f, 0, region, 0, size);
          long t3 = System.nanoTime();
          memory.get(direct);
          report("inline write", size, t1 - t0);
          report("inline read", size, t2 - t1);
          report("direct read", size, t3 - t2);
        }
        s.fsync(f.handle(), false);
        s.close(f);
        boolean same = Arrays.equals(data, inline.array()) && Arrays.equals(data, direct)
            && Arrays.equals(data, Files.readAllBytes(export.resolve("demo.bin")));
        System.out.println("data verified inline, direct and on disk: " + same);
        for (DirEntry e : s.readdir(s.root(), 0, 100).entries()) {
          System.out.printf("  %-10s %,d bytes%n", e.name(), e.attributes().size());
        }
        System.out.printf("client: %s%nserver: %s%n", s.stats(), server.stats());
        return same ? 0 : 1;
      }
    } finally {
      try (Stream<Path> walk = Files.walk(export)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void report(String what, int bytes, long nanos) {
    System.out.printf("%-13s %,d bytes in %.1f ms (%.0f MB/s)%n", what, bytes, nanos / 1e6, bytes / (nanos / 1e9) / 1e6);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new DemoMain()).execute(args));
  }
}
