package org.cachedafs.nio;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.spi.FileSystemProvider;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.cachedafs.protocol.FileAttributes;

/**
 * The {@code dafs} scheme for java.nio. Found through {@link java.util.ServiceLoader}, so the jar on
 * the class path is all an application needs. A thin layer: it checks that a path is its own and hands
 * the work to the {@link DafsFileSystem}, its cache and session.
 *
 * <pre>{@code
 * FileSystem fs = FileSystems.newFileSystem(URI.create("dafs://HOST[:PORT]/"), env);  // connects
 * Path p = fs.getPath("/dir/file");
 * Path q = Path.of(URI.create("dafs://HOST[:PORT]/dir/file"));                       // finds fs
 * }</pre>
 *
 * <ul>
 *   <li>A file system is a whole server: {@code newFileSystem} takes {@code dafs://HOST[:PORT]/}, with
 *       no path (one is an {@link IllegalArgumentException}); without a port it is 5450, the server's
 *       default. Its {@code env} keys are checked first: an unknown key or a badly typed value is an
 *       {@link IllegalArgumentException} naming the key (docs/nio.md lists the keys).
 *   <li>One file system per server: servers are told apart by their resolved address, so {@code
 *       localhost} and {@code 127.0.0.1} are the same server, and a second {@code newFileSystem} for it
 *       is a {@link FileSystemAlreadyExistsException}.
 *   <li><b>Only {@code newFileSystem} connects.</b> {@code getFileSystem(URI)} and {@code getPath(URI)}
 *       (so {@code Path.of(URI)}) find the file system open for the URI's server, or throw {@link
 *       FileSystemNotFoundException} saying how to open one; as jimfs does, they never open a session
 *       of their own, which nothing would ever close, with settings nobody chose.
 *   <li>A failure to connect names the server, {@code host:port}: refused, unknown host, a peer that
 *       is not a DAFS server (found out at once if it answers or closes, else after the {@code
 *       connect.timeout}), and the server's refusal of the secret ("server requires a secret", "wrong
 *       secret", "server has no secret").
 *   <li>A file system whose session was lost for good is no longer {@code isOpen()}: {@code
 *       getFileSystem} does not return it, saying why, and {@code newFileSystem} replaces it.
 * </ul>
 *
 * <p>The installed provider (the one {@code FileSystems} uses) holds the file systems of the
 * application. A second client of the same server in one JVM, as a test of two clients needs, is a
 * file system of another instance: {@code new DafsFileSystemProvider().newFileSystem(uri, env)}; its
 * paths work with {@code Files} like any other, but {@code Path.of(URI)} does not find it.
 */
public final class DafsFileSystemProvider extends FileSystemProvider {
  private final OpenFileSystems systems = new OpenFileSystems();

  @Override
  public String getScheme() {
    return "dafs";
  }

  /**
   * A new file system for the server {@code dafs://HOST[:PORT]/}; one whose session was lost is replaced.
   *
   * @throws IllegalArgumentException if the URI is not a server's (a path in it, say), or {@code env}
   *     has an unknown key or a bad value
   * @throws FileSystemAlreadyExistsException if one is open for the same server
   * @throws IOException if the server cannot be reached or refuses this client, naming it
   */
  @Override
  public FileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException {
    DafsUri server = DafsUri.server(uri);
    FileSystemEnv settings = FileSystemEnv.parse(env);
    return systems.open(server, address -> DafsFileSystem.connect(this, server, address, settings));
  }

  /**
   * The open file system for the server {@code dafs://HOST[:PORT]/}; never connects.
   *
   * @throws FileSystemNotFoundException if none is open, or the one that was lost its session
   */
  @Override
  public FileSystem getFileSystem(URI uri) {
    return systems.find(DafsUri.server(uri));
  }

  /**
   * The path {@code dafs://HOST[:PORT]/PATH} on the open file system for its server; never connects.
   *
   * @throws FileSystemNotFoundException if no file system is open for the server
   */
  @Override
  public Path getPath(URI uri) {
    DafsUri u = DafsUri.parse(uri);
    return systems.find(u).getPath(u.path());
  }

  void forget(DafsFileSystem fs) {
    systems.forget(fs);
  }

  private static DafsFileSystem fs(Path p) {
    DafsFileSystem fs = (DafsFileSystem) DafsPath.of(p).getFileSystem();
    fs.checkOpen();
    return fs;
  }

  // --- channels --------------------------------------------------------------------------------

  @Override
  public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    return newFileChannel(path, options, attrs); // a FileChannel, so zipfs and others use positional reads
  }

  @Override
  public FileChannel newFileChannel(Path p, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    return fs(p).newFileChannel(DafsPath.of(p), ChannelOptions.of(options), attrs);
  }

  // --- directories and names -------------------------------------------------------------------

  @Override
  public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
    DafsFileSystem fs = fs(dir);
    DafsPath d = DafsPath.of(dir);
    FileAttributes a = fs.attributes(d);
    if (!a.isDirectory()) {
      throw new java.nio.file.NotDirectoryException(d.toString());
    }
    return new DafsDirectoryStream(fs, d, fs.handle(d), filter);
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    DafsFileSystem fs = fs(dir);
    DafsPath d = (DafsPath) DafsPath.of(dir).toAbsolutePath();
    if (d.getNameCount() == 0) {
      throw new FileAlreadyExistsException("/");
    }
    try {
      fs.namespace.mkdir(d.relativeToRoot(), DafsFileAttributes.permissions(attrs, 0755));
    } catch (IOException e) {
      throw NioErrors.of(e, d);
    }
  }

  @Override
  public void delete(Path p) throws IOException {
    fs(p).delete(DafsPath.of(p));
  }

  @Override
  public void copy(Path source, Path target, CopyOption... options) throws IOException {
    DafsPath dst = DafsPath.of(target);
    fs(source).copy(DafsPath.of(source), dst, fs(dst), options);
  }

  @Override
  public void move(Path source, Path target, CopyOption... options) throws IOException {
    DafsPath dst = DafsPath.of(target);
    fs(source).move(DafsPath.of(source), dst, fs(dst), options);
  }

  @Override
  public boolean isSameFile(Path a, Path b) throws IOException {
    if (a.equals(b)) {
      return true;
    }
    if (!(a instanceof DafsPath pa) || !(b instanceof DafsPath pb) || pa.getFileSystem() != pb.getFileSystem()) {
      return false;
    }
    DafsFileSystem fs = fs(a);
    return fs.handle(pa).equals(fs.handle(pb));
  }

  @Override
  public boolean isHidden(Path path) {
    Path name = DafsPath.of(path).getFileName();
    return name != null && name.toString().startsWith(".");
  }

  @Override
  public FileStore getFileStore(Path path) throws IOException {
    DafsFileSystem fs = fs(path);
    fs.attributes(DafsPath.of(path));
    return new DafsFileStore(fs);
  }

  @Override
  public void checkAccess(Path path, AccessMode... modes) throws IOException {
    DafsFileSystem fs = fs(path);
    FileAttributes a = fs.attributes(DafsPath.of(path));
    for (AccessMode m : modes) {
      // The server acts with its own rights; the owner's bits are what a client can go by.
      int bit = switch (m) {
        case READ -> 0400;
        case WRITE -> 0200;
        case EXECUTE -> 0100;
      };
      if ((a.mode() & bit) == 0 && !(m == AccessMode.EXECUTE && a.isDirectory())) {
        throw new java.nio.file.AccessDeniedException(path.toString(), null, m + " not permitted by mode " + Integer.toOctalString(a.mode() & 0777));
      }
    }
  }

  void checkAccess(DafsPath path) throws IOException {
    fs(path).attributes(path);
  }

  // --- attributes ------------------------------------------------------------------------------

  @Override
  @SuppressWarnings("unchecked")
  public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
    DafsFileSystem fs = fs(path);
    if (type == BasicFileAttributeView.class) {
      return (V) new DafsBasicAttributeView(fs, DafsPath.of(path));
    }
    if (type == PosixFileAttributeView.class) {
      return (V) new DafsPosixAttributeView(fs, DafsPath.of(path));
    }
    return null;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options) throws IOException {
    if (type != BasicFileAttributes.class && type != PosixFileAttributes.class) {
      throw new UnsupportedOperationException("no attributes of type " + type.getName());
    }
    return (A) new DafsFileAttributes(fs(path).attributes(DafsPath.of(path)));
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
    String view = "basic";
    String names = attributes;
    int colon = attributes.indexOf(':');
    if (colon >= 0) {
      view = attributes.substring(0, colon);
      names = attributes.substring(colon + 1);
    }
    if (!view.equals("basic") && !view.equals("posix")) {
      throw new UnsupportedOperationException("view " + view + " is not supported");
    }
    DafsFileAttributes a = new DafsFileAttributes(fs(path).attributes(DafsPath.of(path)));
    Map<String, Object> all = view.equals("posix") ? DafsPosixAttributeView.all(a) : DafsBasicAttributeView.all(a);
    if (names.equals("*")) {
      return all;
    }
    Map<String, Object> out = new HashMap<>();
    for (String n : names.split(",")) {
      if (!all.containsKey(n)) {
        throw new IllegalArgumentException("'" + n + "' not recognized");
      }
      out.put(n, all.get(n));
    }
    return out;
  }

  @Override
  public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
    String name = attribute.contains(":") ? attribute.substring(attribute.indexOf(':') + 1) : attribute;
    new DafsPosixAttributeView(fs(path), DafsPath.of(path)).set(name, value, attribute);
  }
}
