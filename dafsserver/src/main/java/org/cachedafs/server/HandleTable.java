package org.cachedafs.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FileType;
import org.cachedafs.protocol.Status;

/**
 * Maps handles to files. One node per file identity, so two paths to the same file (hard links, a
 * rename) give the same handle.
 *
 * <p>Where the kernel allows, a handle is durable ({@link KernelHandles}): the file's own kernel handle,
 * sealed, so the same file has the same handle at every start of the server, and a handle this table
 * does not know (given out before a restart, or forgotten since) is found again through the kernel
 * ({@link #revive}). Elsewhere (see {@link DurableHandles}), and for the odd file the kernel gives no
 * handle for, a handle is a format byte of {@link #VOLATILE_FORMAT} and {@link #VOLATILE_BYTES} bytes
 * from a {@link SecureRandom}: unforgeable because unguessable, and known only to this table, so it
 * goes stale when the server stops.
 *
 * <p>Every use of a handle ({@link #resolve}) checks that its node still names its file, inside the
 * export, and forgets the node (its handle goes stale) when not. For a durable handle the kernel says
 * where the file is, by a path without symlinks: so a handle to a file moved out of the export is
 * stale, and a directory a local user swapped for a symlink leading out of it is not followed.
 */
final class HandleTable {
  static final byte VOLATILE_FORMAT = 0;
  static final int VOLATILE_BYTES = 16;
  private final SecureRandom random = new SecureRandom();
  private final DurableHandles durable;
  private final String volatileReason;
  private final Map<FileHandle, FileNode> byHandle = new ConcurrentHashMap<>();
  /** Guarded by this. */
  private final Map<Object, FileNode> byFileKey = new HashMap<>();
  private final Path rootPath;
  private final FileNode root;
  /** Guarded by this. */
  private long nextOrder;
  /** Handles this table did not know that the kernel found a file for. */
  final LongAdder revived = new LongAdder();
  /** Handles of the durable form whose seal did not verify. */
  final LongAdder forged = new LongAdder();

  /**
   * @param durable how durable handles are made, {@link DisabledDurableHandles} where they cannot be
   * @param volatileReason why handles are not durable, empty when they are
   */
  HandleTable(Path rootPath, DurableHandles durable, String volatileReason) throws IOException {
    this.rootPath = rootPath;
    this.durable = durable;
    this.volatileReason = volatileReason;
    BasicFileAttributes a = Files.readAttributes(rootPath, BasicFileAttributes.class);
    synchronized (this) {
      this.root = add(durable.handleOf(rootPath), a.fileKey(), FileType.DIRECTORY, null, null);
    }
  }

  FileNode root() {
    return root;
  }

  /** Whether handles outlive the server: made from the kernel's, and sealed. */
  boolean durable() {
    return durable != DisabledDurableHandles.INSTANCE;
  }

  /** Why handles do not outlive the server; empty when they do. */
  String volatileReason() {
    return volatileReason;
  }

  /**
   * The live node for a handle; STALE if the server never gave it out (forged), if the file was
   * removed, moved out of the export, or if its path now names a different file.
   */
  FileNode resolve(FileHandle h) throws OpException {
    FileNode n = byHandle.get(h);
    if (n == null) {
      return revive(h);
    }
    if (n.isRemoved()) {
      throw new OpException(Status.STALE, "the file was removed");
    }
    check(n);
    return n;
  }

  /**
   * Checks that a node still names its file inside the export, else forgets it. A durable handle's
   * file is where the kernel finds it: when that is the node's path (the common case, three system
   * calls) nothing more is needed. When the kernel names another place inside the export, the file is
   * a hard link found by its other name, or was renamed behind the server's back (the node follows
   * it); when the kernel knows no name for it (a non-directory out of its cache), the node's path must
   * still name the file and the kernel must find its directory there.
   */
  private void check(FileNode n) throws OpException {
    Path path = n.path();
    Path at = null;
    if (durable.isDurable(n.handle())) {
      try {
        at = durable.locate(n.handle());
      } catch (OpException e) {
        if (e.status() == Status.STALE) {
          forget(n);
        }
        throw e;
      }
      if (at.equals(path)) {
        return;
      }
      if (knowsName(at) && !at.startsWith(rootPath)) {
        forget(n);
        throw new OpException(Status.STALE, "the file was moved out of the export");
      }
    }
    try {
      Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      if (Objects.equals(key, n.fileKey()) && (at == null || directoryConfirmed(n))) {
        return;
      }
    } catch (IOException e) {
      // Not at its path any more: perhaps moved, which the kernel may know; else gone (below).
    }
    if (at != null && knowsName(at) && at.startsWith(rootPath)) {
      try {
        if (nodeAt(at) == n) {
          return; // renamed behind the server's back, inside the export: the node now names it there
        }
      } catch (OpException e) {
        // Moved again, or gone.
      }
    }
    forget(n);
    throw new OpException(Status.STALE, "the file was removed or replaced outside the server");
  }

  /** "/" is what the kernel says of a file it knows no name of, unless the export is the whole tree. */
  private boolean knowsName(Path at) {
    return at.getNameCount() > 0 || rootPath.getNameCount() == 0;
  }

  /** Whether the kernel finds the node's directory at the node's parent path: no symlink on the way. */
  private boolean directoryConfirmed(FileNode n) {
    FileNode dir = n.parent();
    if (dir == null || !durable.isDurable(dir.handle())) {
      return true;
    }
    try {
      return durable.locate(dir.handle()).equals(dir.path());
    } catch (OpException e) {
      return false;
    }
  }

  /**
   * The node of a handle this table does not know: one given out before the server restarted, or whose
   * node was forgotten since. Only a durable handle can be found again, only if its seal verifies, and
   * only if the kernel finds its file inside the export, by a name.
   */
  private FileNode revive(FileHandle h) throws OpException {
    if (!durable.isDurable(h)) {
      throw new OpException(Status.STALE, "unknown file handle");
    }
    if (!durable.sealed(h)) {
      forged.increment();
      throw new OpException(Status.STALE, "not a handle of this server: its seal does not verify");
    }
    Path at = durable.locate(h);
    if (!knowsName(at)) {
      throw new OpException(Status.STALE, "the kernel knows the file by no name now (its directory entry left the kernel's cache"
          + " since the handle was given out): look it up again by its path");
    }
    if (!at.startsWith(rootPath)) {
      throw new OpException(Status.STALE, "the file is no longer inside the export");
    }
    FileNode n;
    try {
      n = nodeAt(at);
    } catch (OpException e) {
      throw new OpException(Status.STALE, "the file was moved or removed while its handle was resolved: " + e.getMessage());
    }
    if (!n.handle().equals(h)) {
      throw new OpException(Status.STALE, "the file was moved or replaced while its handle was resolved");
    }
    revived.increment();
    return n;
  }

  /** The node for a node-less open, when the file may already be unlinked; null if unknown. */
  FileNode peek(FileHandle h) {
    return byHandle.get(h);
  }

  /**
   * The node for a path inside the export without symlinks (a real path), built from the root down;
   * NOTDIR if a component on the way is no longer a directory (a symlink put there meanwhile).
   */
  FileNode nodeAt(Path real) throws OpException {
    FileNode n = root;
    for (Path component : rootPath.relativize(real)) {
      String name = component.toString();
      if (name.isEmpty()) {
        continue;
      }
      if (!n.isDirectory()) {
        throw new OpException(Status.NOTDIR, "'" + rootPath.relativize(n.path()) + "' is no longer a directory");
      }
      try {
        BasicFileAttributes a = Files.readAttributes(n.path().resolve(name), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        n = child(n, name, a);
      } catch (IOException e) {
        throw IoErrors.toOp(e);
      }
    }
    return n;
  }

  /**
   * The node for the entry {@code name} of {@code dir}, whose attributes were just read. A node found
   * by its file key under another name was renamed there, unless it is now another kind of file, or
   * the kernel's handle of the file is not the node's durable handle: then the old file was removed
   * outside the server and the file system gave its inode number to this one, and the old node is
   * forgotten (its handle goes stale) rather than handed out for the new file.
   *
   * <p>Unless the entry's own live node is found, the name is read again under this table's monitor
   * and must still name the file {@code a} describes, else NoSuchFileException: it was removed or
   * replaced since. Removals through the server forget their node under the same monitor
   * ({@link #removeName}), so a node made or moved here is one of a file that has the name, and goes
   * when the server takes the name away. Without the check, an open or lookup that read the
   * attributes just before a removal made a live node for the removed file, keyed by an inode number
   * the file system then gave to the next file created, which got that node (and its watch and
   * exported blocks) instead of its own.
   */
  FileNode child(FileNode dir, String name, BasicFileAttributes a) throws IOException {
    FileNode n = named(dir, name, a);
    if (n != null && (n == root || !durable.isDurable(n.handle()))) {
      return n;
    }
    // Asked of the kernel outside the table's monitor. A node with a durable handle is checked against
    // the kernel's handle too: the file key is only the inode number, which a file removed behind the
    // server's back hands on to the next file created, while the kernel's handle (its generation) tells
    // the two apart. One name_to_handle_at a lookup, against a handle that would be stale at once.
    FileHandle h = durableHandle(dir.path().resolve(name), a.fileKey());
    if (n != null && (h == null || h.equals(n.handle()))) {
      return n;
    }
    synchronized (this) {
      n = named(dir, name, a);
      return n != null && (h == null || h.equals(n.handle())) ? n : placed(dir, name, a, h);
    }
  }

  /** The root, or the live node that has this very name already: no need to read the name again. */
  private synchronized FileNode named(FileNode dir, String name, BasicFileAttributes a) {
    FileNode n = byFileKey.get(a.fileKey());
    if (n == root || (n != null && !n.isRemoved() && n.isNamed(dir, name) && n.type() == typeOf(a))) {
      return n;
    }
    return null;
  }

  /**
   * Guarded by this: the name read again, then the node found by its file key moved here (renamed
   * behind the server's back), or a new one with {@code durableHandle} (null: a random handle).
   */
  private FileNode placed(FileNode dir, String name, BasicFileAttributes a, FileHandle durableHandle) throws IOException {
    Object key = a.fileKey();
    Path p = dir.path().resolve(name);
    if (!Objects.equals(Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey(), key)) {
      throw new NoSuchFileException(p.toString(), null, "removed or replaced while it was looked up");
    }
    FileNode n = byFileKey.get(key);
    if (n != null && !n.isRemoved() && (n.type() != typeOf(a) || isAnotherFile(n, durableHandle))) {
      forget(n);
      n = null;
    }
    if (n != null && !n.isRemoved()) {
      n.moveTo(dir, name);
      return n;
    }
    return add(durableHandle, key, typeOf(a), dir, name);
  }

  /** Whether the kernel's handle of the file now under {@code n}'s inode number shows another file than {@code n}'s. */
  private boolean isAnotherFile(FileNode n, FileHandle kernels) {
    return kernels != null && durable.isDurable(n.handle()) && !kernels.equals(n.handle());
  }

  /**
   * The durable handle of the file at {@code p}, or null (it then gets a random one), also when the
   * path named another file than {@code fileKey} by the time the kernel was asked.
   */
  private FileHandle durableHandle(Path p, Object fileKey) {
    FileHandle h = durable.handleOf(p);
    if (h == null) {
      return null;
    }
    try {
      return Objects.equals(Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey(), fileKey) ? h : null;
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Guarded by this. {@code durableHandle} null: a random one. A durable handle may still map to a
   * removed node kept for its opens (one name of a hard-linked file removed while open): the live file
   * takes the handle over.
   */
  private FileNode add(FileHandle durableHandle, Object key, FileType type, FileNode dir, String name) {
    FileHandle h = durableHandle;
    while (true) {
      if (h == null) {
        byte[] b = new byte[1 + VOLATILE_BYTES];
        random.nextBytes(b);
        b[0] = VOLATILE_FORMAT;
        h = new FileHandle(b);
      }
      FileNode n = new FileNode(h, key, type, dir, name, rootPath, nextOrder++);
      FileNode old = byHandle.putIfAbsent(h, n);
      if (old == null || (old.isRemoved() && byHandle.replace(h, old, n))) {
        byFileKey.put(key, n);
        return n;
      }
      h = null;
    }
  }

  /** The node of an entry the server is about to change, if it has one. */
  synchronized FileNode existing(Object fileKey) {
    return byFileKey.get(fileKey);
  }

  /** A change to the file system that takes a name away from a file: an unlink, an rmdir, a rename over it. */
  interface NameRemoval {
    void apply() throws IOException;
  }

  /**
   * Applies {@code removal}, which takes the name {@code gone} away from the file whose identity was
   * {@code fileKey}, and forgets that file's node if the name was the node's own: one step under this
   * table's monitor, so that no {@link #child} comes between them. The moment the file's last link and
   * last descriptor are gone, the file system may give its inode number to a new file (ext4 gives the
   * lowest free one, so at once), and {@link #child}, which knows files by device and inode, would
   * hand the new file the removed file's live node: its handle, its delegations, its exported blocks,
   * and a local-writer watch whose marks went with the old inode, so that local writes to the new
   * file went unseen (OdafsStressTest read a local writer's file stale from the exported cache for the
   * whole incarnation that got a removed file's node). Returns the node forgotten, or null.
   */
  synchronized FileNode removeName(Path gone, Object fileKey, NameRemoval removal) throws IOException {
    removal.apply();
    FileNode n = byFileKey.get(fileKey);
    if (n == null || !n.path().equals(gone)) {
      return null;
    }
    forget(n);
    return n;
  }

  synchronized void moved(FileNode n, FileNode newParent, String newName) {
    n.moveTo(newParent, newName);
  }

  /** Told of every node forgotten (the exported cache drops the file's blocks). Set once at start. */
  private volatile Consumer<FileNode> onForget = n -> { };

  void onForget(Consumer<FileNode> listener) {
    this.onForget = listener;
  }

  /** The file is gone: its handle goes stale; open states keep their channels. */
  synchronized void forget(FileNode n) {
    n.markRemoved();
    onForget.accept(n); // after: a fill starting now sees the node removed
    byFileKey.remove(n.fileKey(), n);
    if (n.opens().isEmpty()) {
      byHandle.remove(n.handle(), n);
    }
  }

  /** The last open of a removed file closed: drop its handle too. */
  void released(FileNode n) {
    if (n.isRemoved() && n.opens().isEmpty()) {
      byHandle.remove(n.handle(), n);
    }
  }

  /** Lets go of the kernel's handles (the export root's descriptor). After the server stopped. */
  void close() {
    durable.close();
  }

  static FileType typeOf(BasicFileAttributes a) {
    if (a.isSymbolicLink()) {
      return FileType.SYMLINK;
    }
    if (a.isDirectory()) {
      return FileType.DIRECTORY;
    }
    if (a.isRegularFile()) {
      return FileType.REGULAR;
    }
    return FileType.OTHER;
  }
}
