package org.cachedafs.nio;

import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.util.Map;
import org.cachedafs.client.DafsException;

/**
 * An application of the NIO door, run by {@link NoLoggingBindingTest} in a JVM of its own: it opens a
 * file system on the server {@code args[0]}, writes and reads a file, and then fails to open one on
 * {@code args[1]}, a peer that is not a DAFS server (which the transport logs at debug). Prints "done".
 */
public final class LoggingChildMain {
  private LoggingChildMain() {}

  public static void main(String[] args) throws Exception {
    try (FileSystem fs = FileSystems.newFileSystem(URI.create(args[0]), Map.of("cache.size", "8m"))) {
      Files.writeString(fs.getPath("/logging.txt"), "quiet");
      if (!Files.readString(fs.getPath("/logging.txt")).equals("quiet")) {
        throw new AssertionError("read back something else");
      }
    }
    try {
      FileSystems.newFileSystem(URI.create(args[1]), Map.of()).close();
      throw new AssertionError("opened a file system on a peer that is not a DAFS server");
    } catch (DafsException expected) {
      // Its message is NioConnectErrorsTest's business; here it is only something that logs.
    }
    System.out.println("done");
  }
}
