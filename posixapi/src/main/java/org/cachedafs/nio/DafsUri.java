package org.cachedafs.nio;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import org.cachedafs.client.DafsClient;

/**
 * A {@code dafs://HOST[:PORT]/PATH} URI taken apart: the server it names, on {@link
 * DafsClient#DEFAULT_PORT} (5450) when it gives no port, and the path on that server.
 *
 * <p>A server is one file system however it is written: {@link #address()} resolves the host, so
 * {@code dafs://localhost/} and {@code dafs://127.0.0.1:5450/} find the same one. The host stays as
 * written in {@link #authority()}, for messages and for the URIs of the file system's paths.
 *
 * @param host the host as written (an IPv6 literal with its brackets)
 * @param port the port, the default one filled in
 * @param path the decoded path, {@code /} when the URI has none
 */
record DafsUri(String host, int port, String path) {
  /**
   * Any dafs URI: a server, or a path on one.
   *
   * @throws IllegalArgumentException if it is not {@code dafs://HOST[:PORT]/PATH}, saying what it got
   */
  static DafsUri parse(URI uri) {
    if (!"dafs".equalsIgnoreCase(uri.getScheme()) || uri.isOpaque() || uri.getHost() == null) {
      throw new IllegalArgumentException("expected dafs://HOST[:PORT]/PATH, got " + uri);
    }
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("a dafs URI has no user, query or fragment: " + uri);
    }
    String path = uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath();
    return new DafsUri(uri.getHost(), uri.getPort() < 0 ? DafsClient.DEFAULT_PORT : uri.getPort(), path);
  }

  /**
   * A URI that names a whole server, as {@code newFileSystem} and {@code getFileSystem} take it.
   *
   * @throws IllegalArgumentException if it names a path on the server: a file system is the whole export
   */
  static DafsUri server(URI uri) {
    DafsUri u = parse(uri);
    if (!u.path.equals("/")) {
      throw new IllegalArgumentException("a dafs file system is a whole server, dafs://HOST[:PORT]/, so its URI has no path: got "
          + uri + " (open dafs://" + u.authority() + "/, then getPath(\"" + u.path + "\") on it)");
    }
    return u;
  }

  /** {@code host:port}, the host as written. */
  String authority() {
    return host + ":" + port;
  }

  /** The URI {@link DafsClient#connect} takes for this server. */
  URI serverUri() {
    return URI.create("dafs://" + authority());
  }

  /**
   * The server's address, resolved: what tells two spellings of one server apart from two servers.
   *
   * @throws UnknownHostException if the host does not resolve, naming it and the port
   */
  InetSocketAddress address() throws UnknownHostException {
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException e) {
      UnknownHostException named = new UnknownHostException("cannot connect to " + authority() + ": unknown host");
      named.initCause(e);
      throw named;
    }
  }
}
