package org.cachedafs.nio;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.CopyOption;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.cachedafs.cache.CacheManager;
import org.cachedafs.cache.CachedFile;
import org.cachedafs.cache.Namespace;
import org.cachedafs.client.DafsClient;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Status;

/**
 * One DAFS server seen as a {@link FileSystem}: a session, a cache over it, and the channels open on
 * it. Everything goes through the cache, so files are cached while this client holds delegations on
 * them. Closing the file system closes its channels, the cache and the session.
 *
 * <p>It is made with the settings of its {@code env} ({@link FileSystemEnv}), and is the one file
 * system of its provider for its server ({@link OpenFileSystems}).
 *
 * <p>A session that ends for good (the server restarted and no longer knows it, its lease ran out, or
 * no reconnect succeeded in time) ends the file system with it: {@link #isOpen()} turns false, every
 * operation fails with a {@link SessionLostException} or an IOException naming the server and the
 * cause, and the provider lets a new file system for the same URI replace it. Surviving a restart is
 * not attempted here.
 */
final class DafsFileSystem extends FileSystem {
  private final DafsFileSystemProvider provider;
  private final String authority;
  private final InetSocketAddress address;
  final DafsSession session;
  final CacheManager cache;
  /** Lookups, attributes and namespace changes, with the cache's name cache (used only under delegations). */
  final Namespace namespace;
  private final Set<DafsFileChannel> channels = ConcurrentHashMap.newKeySet();
  /** Locks this JVM holds through this file system, per file, for OverlappingFileLockException. */
  final Map<FileHandle, List<DafsFileLock>> locks = new ConcurrentHashMap<>();
  private volatile boolean open = true;
  /** Why the session ended, once this file system saw it end before its own close. */
  private volatile DafsException lost;
  /** Whether every file is opened around the cache, as with {@code ExtendedOpenOption.DIRECT}. */
  final boolean uncached;

  private DafsFileSystem(DafsFileSystemProvider provider, String authority, InetSocketAddress address, DafsSession session,
      CacheManager cache, boolean uncached) {
    this.uncached = uncached;
    this.provider = provider;
    this.authority = authority;
    this.address = address;
    this.session = session;
    this.cache = cache;
    this.namespace = cache.namespace();
  }

  /** Connects to {@code server}, at {@code address} (its host resolved), with the settings of {@code env}. */
  static DafsFileSystem connect(DafsFileSystemProvider provider, DafsUri server, InetSocketAddress address, FileSystemEnv env)
      throws IOException {
    DafsSession session = DafsClient.connect(server.serverUri(), env.client());
    try {
      return new DafsFileSystem(provider, server.authority(), address, session, CacheManager.create(session, env.cache()), env.uncached());
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /** The server as the application first named it, {@code host:port}. */
  String authority() {
    return authority;
  }

  /** The server's resolved address: which server this is, however it is written. */
  InetSocketAddress address() {
    return address;
  }

  /**
   * Throws {@link java.nio.file.ClosedFileSystemException} if this file system was closed or its
   * session lost; for a lost session, a {@link SessionLostException} that names the server and the cause.
   */
  void checkOpen() {
    DafsException l = lost();
    if (l != null) {
      throw new SessionLostException(lostMessage(l), l);
    }
    if (!open) {
      throw new java.nio.file.ClosedFileSystemException();
    }
  }

  /**
   * The failure of the session, if it ended before this file system was closed (a server restart, a
   * lease that ran out, no reconnect in time): then nothing on it can work again, and a new file
   * system for the same URI takes its place (see {@link DafsFileSystemProvider#newFileSystem}).
   * Null while the session lives, and after an ordinary close.
   */
  DafsException lost() {
    if (lost == null && open) {
      DafsException f = session.failure().orElse(null);
      // Read after the failure: close() clears open before it closes the session, so a failure seen
      // while still open is a loss, not this file system's own close.
      if (f != null && open) {
        lost = f;
      }
    }
    return lost;
  }

  String lostMessage(DafsException cause) {
    return "the session with dafs://" + authority + " was lost: " + cause.getMessage();
  }

  /** The handle of an existing path (following symlinks inside the export). */
  FileHandle handle(DafsPath p) throws IOException {
    try {
      return serverHandle(p);
    } catch (IOException e) {
      throw NioErrors.of(e, p);
    }
  }

  /**
   * As {@link #handle}, with the server's failure as it is: for a caller that reports it against the
   * path it was asked about (a file whose directory is missing is the file's NoSuchFileException).
   */
  FileHandle serverHandle(DafsPath p) throws IOException {
    return namespace.handle(p.relativeToRoot());
  }

  /**
   * The attributes this client sees: its cache's under a delegation (then without a server round trip,
   * as Lucene's hundreds of attribute reads per commit need), else the server's ({@link Namespace#attributes}).
   */
  FileAttributes attributes(DafsPath p) throws IOException {
    try {
      return namespace.attributes(p.relativeToRoot());
    } catch (IOException e) {
      throw NioErrors.of(e, p);
    }
  }

  // --- channels --------------------------------------------------------------------------------

  /** A channel on {@code p}: over a {@link CachedFile}, or read-only over a directory's handle. */
  FileChannel newFileChannel(DafsPath p, ChannelOptions o, FileAttribute<?>... attrs) throws IOException {
    DafsPath path = (DafsPath) p.toAbsolutePath();
    String rel = path.relativeToRoot();
    if (rel.isEmpty() || (!o.create() && isDirectory(path))) {
      if (o.write()) {
        throw new FileSystemException(path.toString(), null, "Is a directory");
      }
      return new DafsFileChannel(this, path, handle(path), null, true, false, false, false, false);
    }
    OpenMode mode = o.mode(o.create() ? DafsFileAttributes.permissions(attrs, 0644) : 0644);
    try {
      CachedFile file = namespace.open(rel, mode, uncached || o.direct());
      try {
        if (file.attributes().isDirectory()) {
          throw new FileSystemException(path.toString(), null, "Is a directory");
        }
        return new DafsFileChannel(this, path, file.handle(), file, o.read(), o.write(), o.append(), o.sync(), o.deleteOnClose());
      } catch (IOException | RuntimeException e) {
        try {
          file.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
    } catch (DafsException e) {
      if (e.status() == Status.ISDIR) {
        throw new FileSystemException(path.toString(), null, "Is a directory");
      }
      throw NioErrors.of(e, path);
    }
  }

  private boolean isDirectory(DafsPath path) {
    try {
      return attributes(path).isDirectory();
    } catch (IOException e) {
      return false;
    }
  }

  // --- delete, copy, move ------------------------------------------------------------------------

  void delete(DafsPath p) throws IOException {
    DafsPath path = (DafsPath) p.toAbsolutePath();
    if (path.getNameCount() == 0) {
      throw new FileSystemException("/", null, "the root cannot be deleted");
    }
    try {
      namespace.delete(path.relativeToRoot());
    } catch (IOException e) {
      throw NioErrors.of(e, path);
    }
  }

  void deleteIfExists(DafsPath p) throws IOException {
    try {
      delete(p);
    } catch (NoSuchFileException ignored) {
      // Already gone.
    }
  }

  /** Copies {@code src} of this file system to {@code dst} of {@code target} (this one, or another server's). */
  void copy(DafsPath src, DafsPath dst, DafsFileSystem target, CopyOption... options) throws IOException {
    boolean replace = Set.of(options).contains(StandardCopyOption.REPLACE_EXISTING);
    FileAttributes a = attributes(src);
    if (target == this && exists(dst) && provider.isSameFile(src, dst)) {
      return; // as the JDK: copying a file onto itself does nothing (and must not delete it)
    }
    if (target.exists(dst)) {
      if (!replace) {
        throw new FileAlreadyExistsException(dst.toString());
      }
      target.delete(dst);
    }
    if (a.isDirectory()) {
      provider.createDirectory(dst);
    } else {
      try (FileChannel in = newFileChannel(src, ChannelOptions.of(Set.of(StandardOpenOption.READ)));
          FileChannel out = target.newFileChannel(dst, ChannelOptions.of(Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)))) {
        ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
        while (in.read(buf) >= 0) {
          buf.flip();
          while (buf.hasRemaining()) {
            out.write(buf);
          }
          buf.clear();
        }
      }
    }
    if (Set.of(options).contains(StandardCopyOption.COPY_ATTRIBUTES)) {
      new DafsBasicAttributeView(target, dst).setTimes(
          FileTime.from(a.modifyTimeNanos(), TimeUnit.NANOSECONDS), FileTime.from(a.accessTimeNanos(), TimeUnit.NANOSECONDS), null);
    }
  }

  /**
   * A rename on the server: atomic, so ATOMIC_MOVE holds; without REPLACE_EXISTING an existing target
   * is refused. To another server ({@code target} not this), a copy and a delete.
   */
  void move(DafsPath source, DafsPath destination, DafsFileSystem target, CopyOption... options) throws IOException {
    DafsPath src = (DafsPath) source.toAbsolutePath();
    DafsPath dst = (DafsPath) destination.toAbsolutePath();
    Set<CopyOption> opts = Set.of(options);
    if (target != this) {
      if (opts.contains(StandardCopyOption.ATOMIC_MOVE)) {
        throw new java.nio.file.AtomicMoveNotSupportedException(src.toString(), dst.toString(), "across dafs servers");
      }
      copy(src, dst, target, opts.contains(StandardCopyOption.REPLACE_EXISTING)
          ? new CopyOption[] {StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES}
          : new CopyOption[] {StandardCopyOption.COPY_ATTRIBUTES});
      delete(src);
      return;
    }
    if (!opts.contains(StandardCopyOption.REPLACE_EXISTING) && !opts.contains(StandardCopyOption.ATOMIC_MOVE) && exists(dst)
        && !provider.isSameFile(src, dst)) {
      throw new FileAlreadyExistsException(dst.toString());
    }
    if (src.getNameCount() == 0 || dst.getNameCount() == 0) {
      throw new FileSystemException(src.toString(), dst.toString(), "the root cannot be moved");
    }
    handle(src); // a missing source is its failure alone, as the JDK reports it
    try {
      namespace.rename(src.relativeToRoot(), dst.relativeToRoot());
    } catch (IOException e) {
      throw NioErrors.of(e, src, dst);
    }
  }

  private boolean exists(DafsPath p) throws IOException {
    try {
      attributes(p);
      return true;
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  void opened(DafsFileChannel c) {
    channels.add(c);
  }

  void closed(DafsFileChannel c) {
    channels.remove(c);
  }

  @Override
  public FileSystemProvider provider() {
    return provider;
  }

  @Override
  public void close() throws IOException {
    if (!open) {
      return;
    }
    lost(); // remembered, so that the file system still says why it stopped working after the close
    open = false;
    IOException first = null;
    try {
      for (DafsFileChannel c : new ArrayList<>(channels)) {
        try {
          c.close();
        } catch (IOException e) {
          if (first == null) {
            first = e;
          } else {
            first.addSuppressed(e);
          }
        }
      }
    } finally {
      try {
        cache.close();
      } finally {
        session.close();
        provider.forget(this);
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** False once closed, and once the session was lost for good (then every operation says why). */
  @Override
  public boolean isOpen() {
    return open && lost() == null;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public String getSeparator() {
    return "/";
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    return List.of(getPath("/"));
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    return List.of(new DafsFileStore(this));
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return Set.of("basic", "posix");
  }

  @Override
  public Path getPath(String first, String... more) {
    return DafsPath.parse(this, first, more);
  }

  /** glob and regex, as the JDK's Unix file systems match them (on the path's string form). */
  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    PathMatcher m = FileSystems.getDefault().getPathMatcher(syntaxAndPattern);
    return path -> m.matches(java.nio.file.Path.of(path.toString()));
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    throw new UnsupportedOperationException("dafs has no user principal lookup");
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("dafs paths cannot be watched");
  }

  @Override
  public String toString() {
    return "dafs://" + authority;
  }
}
