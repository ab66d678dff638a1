package org.cachedafs.server;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.cachedafs.client.ClientOptions;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsSession;

/** A real server on a temporary export, on loopback, and the sessions a test opens against it. */
final class ServerFixture implements AutoCloseable {
  final Path export;
  final DafsServer server;
  private final List<DafsSession> sessions = new ArrayList<>();

  ServerFixture(Path dir) throws IOException {
    this(dir, o -> o);
  }

  ServerFixture(Path dir, UnaryOperator<ServerOptions> tweak) throws IOException {
    this.export = Files.createDirectories(dir.resolve("export"));
    this.server = DafsServer.start(tweak.apply(ServerOptions.of(export)));
  }

  URI uri() {
    return server.uri();
  }

  DafsSession connect() throws IOException {
    return connect(ClientOptions.defaults());
  }

  DafsSession connect(ClientOptions options) throws IOException {
    DafsSession s = DafsClient.connect(uri(), options);
    sessions.add(s);
    return s;
  }

  @Override
  public void close() {
    for (DafsSession s : sessions) {
      s.close();
    }
    server.close();
  }
}
