package org.cachedafs.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.cachedafs.delegation.FileAccess;
import org.cachedafs.protocol.DirEntry;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FsStats;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.Replies.Attrs;
import org.cachedafs.protocol.Replies.DirPage;
import org.cachedafs.protocol.Replies.HandleAttrs;
import org.cachedafs.protocol.Replies.StatFs;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.protocol.Status;

/** The operations on names and attributes: lookup, getattr, setattr, create, mkdir, remove, rmdir, rename, readdir, statfs, fsync. */
final class NamespaceOps {
  private final ExportedCache exported;
  private final Export export;
  private final HandleTable handles;
  private final Delegations delegations;

  NamespaceOps(Export export, Delegations delegations, ExportedCache exported) {
    this.exported = exported;
    this.export = export;
    this.handles = export.handles();
    this.delegations = delegations;
  }

  HandleAttrs lookup(Requests.Lookup r) throws OpException, IOException {
    FileNode n = export.lookup(export.directory(r.dir()), r.path());
    return new HandleAttrs(n.handle(), Export.attributes(n.path()));
  }

  /** Another client's WRITE delegation is recalled first: its holder may have cached a new size or times. */
  Attrs getattr(Requests.HandleArg r, ServerSession s) throws OpException, IOException, RecallPending {
    FileNode n = handles.peek(r.handle());
    if (n != null && n.isRemoved() && !n.opens().isEmpty()) {
      return new Attrs(unlinkedAttributes(n));
    }
    n = handles.resolve(r.handle());
    delegations.check(n, s, FileAccess.READ_ATTRIBUTES);
    return new Attrs(Export.attributes(n.path()));
  }

  /** fstat of a file removed while open: what its open channel still knows. */
  private static FileAttributes unlinkedAttributes(FileNode n) throws OpException, IOException {
    OpenState o = n.opens().iterator().next();
    long size = 0;
    if (!o.isDirectory()) {
      FileChannel ch = o.use();
      try {
        size = ch.size();
      } finally {
        o.done();
      }
    }
    return new FileAttributes(n.type(), size, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  }

  Attrs setattr(Requests.SetAttr r, ServerSession s) throws OpException, IOException, RecallPending {
    FileNode n = handles.resolve(r.handle());
    synchronized (n) {
      delegations.check(n, s, FileAccess.WRITE_ATTRIBUTES);
      return setattrChecked(n, r, s);
    }
  }

  private Attrs setattrChecked(FileNode n, Requests.SetAttr r, ServerSession s) throws OpException, IOException {
    if (r.stateId() != 0) {
      // Through an open: fenced against a revocation like a write.
      OpenState through = s.open(r.stateId());
      through.writing().lock();
      try {
        DataOps.usable(through);
        return applyAttributes(n, r, s);
      } finally {
        through.writing().unlock();
      }
    }
    return applyAttributes(n, r, s);
  }

  private Attrs applyAttributes(FileNode n, Requests.SetAttr r, ServerSession s) throws OpException, IOException {
    SetAttributes a = r.attributes();
    Path p = n.path();
    if (a.has(SetAttributes.SIZE)) {
      if (n.isDirectory()) {
        throw new OpException(Status.ISDIR, "cannot set the size of a directory");
      }
      export.checkFileSize(a.size(), 0);
      if (r.stateId() != 0) {
        OpenState o = s.open(r.stateId());
        if (o.node() != n) {
          throw new OpException(Status.BAD_STATEID, "the state id belongs to another file");
        }
        if (!o.canWrite()) {
          throw new OpException(Status.ACCES, "the open is not for writing");
        }
      }
      n.data().writeLock().lock();
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        resize(ch, a.size());
      } finally {
        exported.truncated(n, a.size()); // after the change, and even if it failed part way
        n.data().writeLock().unlock();
      }
    }
    if (a.has(SetAttributes.MODE)) {
      Files.setAttribute(p, "unix:mode", a.mode() & 07777, LinkOption.NOFOLLOW_LINKS);
      // Who may read the file changed: its exported blocks go, so that they are only there again
      // once a read through an open made under the new mode brought them back.
      exported.truncated(n, 0);
    }
    if (a.has(SetAttributes.ATIME) || a.has(SetAttributes.MTIME)) {
      BasicFileAttributeView v = Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
      FileTime m = a.has(SetAttributes.MTIME) ? FileTime.from(a.modifyTimeNanos(), TimeUnit.NANOSECONDS) : null;
      FileTime at = a.has(SetAttributes.ATIME) ? FileTime.from(a.accessTimeNanos(), TimeUnit.NANOSECONDS) : null;
      v.setTimes(m, at, null);
    }
    return new Attrs(Export.attributes(p));
  }

  /** Truncates or extends with zeros, as ftruncate(2). */
  static void resize(FileChannel ch, long size) throws IOException {
    long current = ch.size();
    if (size < current) {
      ch.truncate(size);
    } else if (size > current) {
      ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
    }
  }

  HandleAttrs create(Requests.Entry r) throws OpException, IOException {
    FileNode dir = export.directory(r.dir());
    Export.checkName(r.name());
    Path p = dir.path().resolve(r.name());
    if (r.flag()) {
      Files.createFile(p, permissions(r.mode()));
    } else {
      try {
        Files.createFile(p, permissions(r.mode()));
      } catch (java.nio.file.FileAlreadyExistsException e) {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isDirectory()) {
          throw new OpException(Status.ISDIR, "");
        }
      }
    }
    return entry(dir, r.name());
  }

  HandleAttrs mkdir(Requests.Entry r) throws OpException, IOException {
    FileNode dir = export.directory(r.dir());
    Export.checkName(r.name());
    Files.createDirectory(dir.path().resolve(r.name()), permissions(r.mode()));
    return entry(dir, r.name());
  }

  private HandleAttrs entry(FileNode dir, String name) throws IOException {
    Path p = dir.path().resolve(name);
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    FileNode n = handles.child(dir, name, a);
    return new HandleAttrs(n.handle(), Export.attributes(p));
  }

  void remove(Requests.Entry r, ServerSession s) throws OpException, IOException, RecallPending {
    FileNode dir = export.directory(r.dir());
    Export.checkName(r.name());
    Path p = dir.path().resolve(r.name());
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (a.isDirectory()) {
      throw new OpException(Status.ISDIR, "use rmdir for a directory");
    }
    FileNode n = handles.existing(a.fileKey());
    if (n == null) {
      // Never handed out, so no delegation can be held on it (a node made for it meanwhile goes with it).
      removeName(p, a.fileKey(), () -> Files.delete(p));
      return;
    }
    synchronized (n) {
      delegations.check(n, s, FileAccess.NAMESPACE);
      List<OpenState> held = holdOpens(n);
      try {
        removeName(p, a.fileKey(), () -> Files.delete(p));
      } finally {
        letGo(held);
      }
    }
  }

  void rmdir(Requests.Entry r) throws OpException, IOException {
    FileNode dir = export.directory(r.dir());
    Export.checkName(r.name());
    Path p = dir.path().resolve(r.name());
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!a.isDirectory()) {
      throw new OpException(Status.NOTDIR, "");
    }
    removeName(p, a.fileKey(), () -> Files.delete(p));
  }

  /**
   * Opens whose descriptor was parked reopen before their file loses its name, and are held open
   * until it has, so that they keep reading and writing it afterwards, as unlink(2) promises open
   * files (a removed file's opens are never parked again). The caller lets go with {@link #letGo}.
   */
  private static List<OpenState> holdOpens(FileNode n) throws OpException, IOException {
    List<OpenState> held = new ArrayList<>();
    try {
      for (OpenState o : n.opens()) {
        if (o.holdOpen()) {
          held.add(o);
        }
      }
    } catch (OpException | IOException | RuntimeException e) {
      letGo(held);
      throw e;
    }
    return held;
  }

  private static void letGo(List<OpenState> held) {
    for (OpenState o : held) {
      o.done();
    }
  }

  /**
   * Takes a name away ({@code removal}) from the file that was {@code fileKey}: if the name was its
   * node's, the node is forgotten in the same step ({@link HandleTable#removeName}: the file's inode
   * number may go to a new file at once) and its delegations go.
   */
  private void removeName(Path gone, Object fileKey, HandleTable.NameRemoval removal) throws IOException {
    FileNode n = handles.removeName(gone, fileKey, removal);
    if (n != null) {
      delegations.fileGone(n);
    }
  }

  void rename(Requests.Rename r, ServerSession s) throws OpException, IOException, RecallPending {
    FileNode fromDir = export.directory(r.fromDir());
    FileNode toDir = export.directory(r.toDir());
    Export.checkName(r.fromName());
    Export.checkName(r.toName());
    Path from = fromDir.path().resolve(r.fromName());
    Path to = toDir.path().resolve(r.toName());
    BasicFileAttributes src = Files.readAttributes(from, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    BasicFileAttributes dst = null;
    try {
      dst = Files.readAttributes(to, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException e) {
      // No target: a plain rename.
    }
    if (dst != null) {
      if (Objects.equals(src.fileKey(), dst.fileKey())) {
        return; // rename(2): both names are the same file, nothing to do
      }
      if (src.isDirectory() && !dst.isDirectory()) {
        throw new OpException(Status.NOTDIR, "the target is not a directory");
      }
      if (!src.isDirectory() && dst.isDirectory()) {
        throw new OpException(Status.ISDIR, "the target is a directory");
      }
    }
    FileNode moving = handles.existing(src.fileKey());
    if (src.isDirectory() && moving != null && toDir.isUnder(moving)) {
      throw new OpException(Status.INVAL, "cannot move a directory into itself");
    }
    FileNode replaced = dst == null ? null : handles.existing(dst.fileKey());
    // Both files' delegations come back, and stay away, until the rename is done: lock both nodes,
    // in a fixed order so that two renames cannot wait on each other.
    FileNode first = moving;
    FileNode second = replaced;
    if (first == null || (second != null && second.order < first.order)) {
      first = replaced;
      second = moving;
    }
    synchronized (first == null ? this : first) {
      synchronized (second == null ? this : second) {
        delegations.check(moving, s, FileAccess.NAMESPACE);
        delegations.check(replaced, s, FileAccess.NAMESPACE);
        if (moving != null && moving.isDirectory()) {
          delegations.checkBelow(moving, s);
        }
        if (replaced != null && replaced.isDirectory()) {
          delegations.checkBelow(replaced, s);
        }
        List<OpenState> held = replaced == null ? List.of() : holdOpens(replaced);
        try {
          if (dst != null) {
            removeName(to, dst.fileKey(), () -> Files.move(from, to, StandardCopyOption.ATOMIC_MOVE));
          } else {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
          }
        } finally {
          letGo(held);
        }
        if (moving != null) {
          handles.moved(moving, toDir, r.toName());
        }
      }
    }
  }

  /**
   * A page of a directory in the order of a 63-bit hash of the names; the cookie is the last hash
   * returned. Entries that stay in the directory are listed exactly once however it changes between
   * pages, as with ext4's hash-ordered directories.
   */
  DirPage readdir(Requests.ReadDir r) throws OpException, IOException {
    if (r.cookie() < 0) {
      throw new OpException(Status.BAD_COOKIE, "negative cookie");
    }
    FileNode dir = export.directory(r.dir());
    Path dp = dir.path();
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dp)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (cookie(name) > r.cookie()) {
          names.add(name);
        }
      }
    }
    names.sort((a, b) -> {
      int c = Long.compare(cookie(a), cookie(b));
      return c != 0 ? c : a.compareTo(b);
    });
    List<DirEntry> entries = new ArrayList<>();
    int i = 0;
    for (; i < names.size(); i++) {
      String name = names.get(i);
      long c = cookie(name);
      // Never split a run of equal hashes across pages: the cookie could not resume inside it.
      if (entries.size() >= r.maxEntries() && c != entries.get(entries.size() - 1).cookie()) {
        break;
      }
      Path p = dp.resolve(name);
      try {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        FileNode n = handles.child(dir, name, a);
        entries.add(new DirEntry(name, n.handle(), Export.attributes(p), c));
      } catch (java.nio.file.NoSuchFileException e) {
        // Removed since the listing: it is simply not there any more.
      }
    }
    boolean eof = i >= names.size();
    long next = entries.isEmpty() ? r.cookie() : entries.get(entries.size() - 1).cookie();
    return new DirPage(entries, next, eof);
  }

  /** FNV-1a over the UTF-8 name, folded to a positive 63-bit cookie. */
  static long cookie(String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    long c = h >>> 1;
    return c == 0 ? 1 : c;
  }

  StatFs statfs(Requests.HandleArg r) throws OpException, IOException {
    handles.resolve(r.handle());
    FileStore store = Files.getFileStore(export.root());
    long block = store.getBlockSize();
    return new StatFs(new FsStats(store.getTotalSpace(), store.getUnallocatedSpace(), store.getUsableSpace(),
        (int) Math.min(Integer.MAX_VALUE, block), Limits.MAX_NAME, Limits.MAX_INLINE, Limits.MAX_DIRECT, export.maxFileSize()));
  }

  /** Forces the file's (or directory's) data, and metadata unless data only, to the server's disk. */
  void fsync(Requests.HandleArg r) throws OpException, IOException {
    FileNode n = handles.peek(r.handle());
    if (n != null && n.isRemoved()) {
      for (OpenState o : n.opens()) {
        if (!o.isDirectory()) {
          FileChannel ch = o.use();
          try {
            ch.force(!r.flag());
          } finally {
            o.done();
          }
        }
      }
      return;
    }
    n = handles.resolve(r.handle());
    try (FileChannel ch = FileChannel.open(n.path(), StandardOpenOption.READ)) {
      ch.force(!r.flag());
    }
  }

  static FileAttribute<Set<PosixFilePermission>> permissions(int mode) {
    StringBuilder sb = new StringBuilder(9);
    String rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      sb.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
    }
    return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(sb.toString()));
  }
}
