package org.cachedafs.nio;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.cachedafs.server.DafsServer;
import org.cachedafs.server.ServerOptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A DAFS server exporting a fresh directory, started before each test and closed after it, with the
 * directory: {@code @RegisterExtension final ServedExport served = new ServedExport();}.
 */
final class ServedExport implements BeforeEachCallback, AfterEachCallback {
  private Path export;
  private DafsServer server;

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    export = Files.createTempDirectory("dafs-export");
    server = DafsServer.start(ServerOptions.of(export));
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    server.close();
    try (Stream<Path> all = Files.walk(export)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  DafsServer server() {
    return server;
  }

  Path export() {
    return export;
  }

  int port() {
    return server.address().getPort();
  }

  /** The server's file system's URI, {@code dafs://127.0.0.1:PORT/}. */
  URI uri() {
    return URI.create("dafs://127.0.0.1:" + port() + "/");
  }
}
