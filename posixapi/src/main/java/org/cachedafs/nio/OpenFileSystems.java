package org.cachedafs.nio;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemNotFoundException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.cachedafs.client.DafsException;
import org.cachedafs.logging.Loggers;
import org.slf4j.Logger;

/**
 * The file systems one provider has open: at most one per server, keyed by the server's resolved
 * address, so that {@code dafs://localhost/} and {@code dafs://127.0.0.1:5450/} are the same one.
 *
 * <p>Only {@link #open} connects. {@link #find}, behind {@code getFileSystem} and {@code Path.of(URI)},
 * never does: as with jimfs and the JDK's zipfs, a file system is made by {@code newFileSystem}, with
 * the application's {@code env}, and only found by the URIs of its paths. A lookup that connected would
 * open a session, with a cache of default size and no secret, behind the application's back, and leave
 * it open for ever, since nothing would close it.
 */
final class OpenFileSystems {
  private static final Logger log = Loggers.get(OpenFileSystems.class);

  /** What makes a file system for a server, once it is known that none is open for it. */
  interface Connector {
    DafsFileSystem connect(InetSocketAddress address) throws IOException;
  }

  /** Read without a lock; changed holding this, so that two opens for one server cannot both connect. */
  private final Map<InetSocketAddress, DafsFileSystem> systems = new ConcurrentHashMap<>();

  /**
   * A new file system for {@code server}; one whose session was lost is replaced (and closed).
   *
   * @throws FileSystemAlreadyExistsException if a live one is open for the same server, however written
   */
  DafsFileSystem open(DafsUri server, Connector connector) throws IOException {
    InetSocketAddress address = server.address();
    synchronized (this) {
      DafsFileSystem open = live(address);
      if (open != null) {
        String as = open.authority().equals(server.authority()) ? "" : ", as dafs://" + open.authority();
        throw new FileSystemAlreadyExistsException("dafs://" + server.authority() + " is open already" + as);
      }
      DafsFileSystem fs = connector.connect(address);
      systems.put(address, fs);
      return fs;
    }
  }

  /**
   * The open file system for {@code server}'s server; never connects.
   *
   * @throws FileSystemNotFoundException if none is open (saying how to open one), or if the one that was
   *     lost its session (saying why)
   */
  DafsFileSystem find(DafsUri server) {
    DafsFileSystem fs;
    try {
      fs = systems.get(server.address());
    } catch (UnknownHostException e) {
      throw new FileSystemNotFoundException("no dafs file system is open for " + server.authority() + " (unknown host)");
    }
    if (fs == null) {
      throw new FileSystemNotFoundException("no dafs file system is open for " + server.authority() + "; FileSystems.newFileSystem("
          + "URI.create(\"dafs://" + server.authority() + "/\"), env) opens one");
    }
    DafsException lost = fs.lost();
    if (lost != null) {
      throw new FileSystemNotFoundException(fs.lostMessage(lost) + "; FileSystems.newFileSystem makes a new one");
    }
    return fs;
  }

  /**
   * The registered file system for {@code address} if its session lives; one whose session was lost
   * is unregistered and closed (which frees its cache memory; it keeps saying why it stopped). Called
   * holding this.
   */
  private DafsFileSystem live(InetSocketAddress address) {
    DafsFileSystem fs = systems.get(address);
    if (fs == null || fs.isOpen()) {
      return fs;
    }
    systems.remove(address, fs);
    try {
      fs.close();
    } catch (IOException | RuntimeException e) {
      // Its channels could not write back over a lost session; that loss was reported to them already.
      log.debug("closing {} after its session was lost: {}", fs, e.toString());
    }
    return null;
  }

  /** {@code fs} closed: it is no longer found. */
  void forget(DafsFileSystem fs) {
    systems.remove(fs.address(), fs);
  }
}
