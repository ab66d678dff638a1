package org.cachedafs.cache;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.DirectoryPage;
import org.cachedafs.client.Node;
import org.cachedafs.client.OpenMode;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.SetAttributes;

/**
 * The names of one cache's server, by path, for every door (the POSIX facade, the java.nio provider,
 * the FUSE mount): lookup, create, remove, rename, attributes and the directory listing, each with
 * what the cache must be told, written once. A door translates its own API onto these calls and the
 * {@link org.cachedafs.client.DafsException}s they throw into its own errors.
 *
 * <p>Paths are relative to the export's root, with "/" between names and none in front; "" is the root.
 * The server resolves a path in one LOOKUP, following symlinks that stay inside the export.
 *
 * <p><b>Name cache.</b> A path's handle is remembered only while the cache holds the file under a
 * delegation, and only under the very delegation it was resolved under: the server recalls a
 * delegation when the file, or a directory above it, is renamed or removed by anyone else, and a
 * recall ends the entry even if a new delegation is granted later. This client's own namespace
 * changes (remove, rmdir, rename) go through this class and forget the names they touch, and everything
 * below them. A lookup that raced one of them is not remembered ({@code epoch}).
 *
 * <p><b>Inode numbers</b> are the server's file ids ({@link FileAttributes#fileId()}): they name the
 * file, not the path, so they stay the same across renames, and the doors show them as {@code st_ino}.
 *
 * <p>Thread-safe. One per {@link CacheManager} ({@link CacheManager#namespace()}).
 */
public final class Namespace {
  private static final int MAX_NAMES = 65_536;
  /** How many entries one READDIR asks for when a door wants the whole directory. */
  private static final int PAGE = 512;

  private final CacheManager cache;
  private final DafsSession session;
  private final Map<String, Name> names = new ConcurrentHashMap<>();
  /** Moves on at every namespace change made here, so a lookup racing one is not remembered. */
  private final AtomicLong epoch = new AtomicLong();

  /** A path's handle, remembered while the cache held the file under this delegation. */
  private record Name(FileHandle handle, long delegationId) {}

  Namespace(CacheManager cache) {
    this.cache = cache;
    this.session = cache.session();
  }

  /** The directory part of {@code path}: "" for a name in the root. */
  public static String parent(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }

  /** The last name of {@code path}. */
  public static String leaf(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  // --- lookup ----------------------------------------------------------------------------------

  /** The file at {@code path}, with its attributes as the server saw them. */
  public Node lookup(String path) throws IOException {
    return path.isEmpty() ? new Node(session.root(), session.getattr(session.root())) : session.lookup(session.root(), path);
  }

  /** The handle of the file at {@code path}. */
  public FileHandle handle(String path) throws IOException {
    return path.isEmpty() ? session.root() : session.lookup(session.root(), path).handle();
  }

  // --- attributes ------------------------------------------------------------------------------

  /**
   * The attributes this client sees: the cache's under a delegation (this client's own size and
   * times, and for a remembered path without a round trip, as Lucene's hundreds of attribute reads
   * per commit need), else the ones LOOKUP returned.
   */
  public FileAttributes attributes(String path) throws IOException {
    return attributes(path, false);
  }

  /**
   * As {@link #attributes}, but a regular file the cache does not hold is asked for by GETATTR, which
   * first recalls another client's write delegation, so a size another client has not written back yet
   * is never shown.
   */
  public FileAttributes currentAttributes(String path) throws IOException {
    return attributes(path, true);
  }

  private FileAttributes attributes(String path, boolean current) throws IOException {
    Name known = names.get(path);
    if (known != null) {
      // Only under the very delegation the path was resolved under: a recall of it (any rename or
      // removal by anyone else) ends the entry, even if a new delegation is granted later.
      if (cache.cachingDelegation(known.handle()) == known.delegationId()) {
        FileAttributes mine = cache.cachedAttributes(known.handle());
        if (mine != null) {
          return mine;
        }
      }
      names.remove(path, known);
    }
    long before = epoch.get();
    FileHandle h;
    FileAttributes a;
    if (path.isEmpty()) {
      h = session.root();
      a = session.getattr(h);
    } else {
      Node found = session.lookup(session.root(), path);
      h = found.handle();
      a = found.attributes();
      long delegation = cache.cachingDelegation(h);
      if (delegation != 0 && epoch.get() == before) {
        if (names.size() >= MAX_NAMES) {
          names.clear();
        }
        names.put(path, new Name(h, delegation));
      }
    }
    FileAttributes mine = cache.cachedAttributes(h);
    if (mine != null) {
      return mine;
    }
    return current && a.isRegularFile() ? session.getattr(h) : a;
  }

  /** Changes the attributes of the file at {@code path}, keeping the cache in step ({@link CacheManager#setattr}). */
  public FileAttributes setattr(String path, SetAttributes change) throws IOException {
    return cache.setattr(handle(path), change);
  }

  // --- files and directories -------------------------------------------------------------------

  /** Opens (or creates, as {@code mode} says) the file at {@code path} through the cache. */
  public CachedFile open(String path, OpenMode mode, boolean uncached) throws IOException {
    return cache.open(handle(parent(path)), leaf(path), mode, uncached);
  }

  public Node mkdir(String path, int mode) throws IOException {
    return session.mkdir(handle(parent(path)), leaf(path), mode);
  }

  public void rmdir(String path) throws IOException {
    try {
      session.rmdir(handle(parent(path)), leaf(path));
    } finally {
      forget(path);
    }
  }

  /** Removes the name of a file, as unlink(2) ({@link CacheManager#remove}). */
  public void remove(String path) throws IOException {
    try {
      cache.remove(handle(parent(path)), leaf(path));
    } finally {
      forget(path);
    }
  }

  /** Removes a file or an empty directory, whichever the name is. */
  public void delete(String path) throws IOException {
    try {
      FileHandle dir = handle(parent(path));
      String name = leaf(path);
      Node found = session.lookup(dir, name);
      if (found.attributes().isDirectory()) {
        session.rmdir(dir, name);
      } else {
        session.remove(dir, name);
        cache.removed(found.handle());
      }
    } finally {
      forget(path);
    }
  }

  /** Renames, as rename(2): a file the new name held is removed from the cache ({@link CacheManager#rename}). */
  public void rename(String from, String to) throws IOException {
    try {
      cache.rename(handle(parent(from)), leaf(from), handle(parent(to)), leaf(to));
    } finally {
      forget(from);
      forget(to);
    }
  }

  /** Every entry of the directory {@code dir}, read page by page ("." and ".." are not among them). */
  public List<DirEntry> list(FileHandle dir) throws IOException {
    List<DirEntry> all = new ArrayList<>();
    long cookie = 0;
    while (true) {
      DirectoryPage page = session.readdir(dir, cookie, PAGE);
      all.addAll(page.entries());
      if (page.eof()) {
        return all;
      }
      cookie = page.nextCookie();
    }
  }

  /**
   * Forgets {@code path} and every name below it: for a change of the name this class did not make
   * itself. The changes made here forget their names already.
   */
  public void forget(String path) {
    epoch.incrementAndGet();
    names.keySet().removeIf(k -> k.equals(path) || k.startsWith(path + "/"));
  }
}
