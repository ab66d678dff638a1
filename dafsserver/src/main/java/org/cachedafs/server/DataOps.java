package org.cachedafs.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.cachedafs.delegation.DelegationType;
import org.cachedafs.delegation.FileAccess;
import org.cachedafs.delegation.Grant;
import org.cachedafs.protocol.Limits;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.Replies.Reference;
import org.cachedafs.protocol.Replies.References;
import org.cachedafs.protocol.Replies.Count;
import org.cachedafs.protocol.Replies.LockTest;
import org.cachedafs.protocol.Replies.Opened;
import org.cachedafs.protocol.Replies.ReadData;
import org.cachedafs.protocol.Requests;
import org.cachedafs.protocol.Status;
import org.cachedafs.transport.Connection;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.RemoteAccessException;
import org.cachedafs.transport.RemoteRegion;

/** Opens, data transfer (inline and direct) and byte-range locks. */
final class DataOps {
  private final Export export;
  private final HandleTable handles;
  /** The staging memory in a connection's own domain: its one-sided transfers can use no other. */
  private final java.util.function.Function<Connection, StagingPool> stagingFor;
  /** Bytes placed into clients' memory by direct reads, and taken from it by direct writes. */
  final java.util.concurrent.atomic.LongAdder directBytesOut = new java.util.concurrent.atomic.LongAdder();
  final java.util.concurrent.atomic.LongAdder directBytesIn = new java.util.concurrent.atomic.LongAdder();
  private final SecureRandom random;
  private final Delegations delegations;
  private final Courtesy courtesy;
  private final ServerLimits limits;
  private final OpenBudget openBudget;
  private final ExportedCache exported;
  private final LocalFence fence;

  DataOps(Export export, java.util.function.Function<Connection, StagingPool> stagingFor, SecureRandom random, Delegations delegations, Courtesy courtesy,
      ServerLimits limits, OpenBudget openBudget, ExportedCache exported, LocalFence fence) {
    this.courtesy = courtesy;
    this.exported = exported;
    this.fence = fence;
    this.limits = limits;
    this.openBudget = openBudget;
    this.export = export;
    this.handles = export.handles();
    this.stagingFor = stagingFor;
    this.random = random;
    this.delegations = delegations;
  }

  Opened open(Requests.Open r, ServerSession s) throws OpException, IOException, RecallPending {
    FileNode dir = export.directory(r.dir());
    Export.checkName(r.name());
    boolean write = (r.access() & Requests.Open.ACCESS_WRITE) != 0;
    boolean create = (r.flags() & Requests.Open.CREATE) != 0;
    boolean exclusive = (r.flags() & Requests.Open.EXCLUSIVE) != 0;
    boolean truncate = (r.flags() & Requests.Open.TRUNCATE) != 0;
    if (truncate && !write) {
      throw new OpException(Status.INVAL, "truncating needs write access");
    }
    Path p = dir.path().resolve(r.name());
    BasicFileAttributes existing = null;
    try {
      existing = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException e) {
      if (!create) {
        throw new OpException(Status.NOENT, "");
      }
    }
    if (existing != null && exclusive) {
      throw new OpException(Status.EXIST, "");
    }
    if (existing != null && existing.isSymbolicLink()) {
      p = export.confine(p); // follow it, as open(2) does, but only inside the export
      existing = Files.readAttributes(p, BasicFileAttributes.class);
    }
    if (s.openCount() >= limits.maxOpensPerSession()) {
      throw new OpException(Status.RESOURCE, "this session holds " + s.openCount() + " open files, the most one session may (--max-opens-per-session)");
    }
    FileChannel channel = null;
    boolean budgeted = false;
    if (existing != null && existing.isDirectory()) {
      if (write) {
        throw new OpException(Status.ISDIR, "a directory cannot be opened for writing");
      }
    } else {
      Set<OpenOption> opts = options(r.access());
      if (create) {
        opts.add(exclusive ? StandardOpenOption.CREATE_NEW : StandardOpenOption.CREATE);
      }
      channel = existing == null && create ? openCounted(p, opts, NamespaceOps.permissions(r.mode())) : openCounted(p, opts);
      budgeted = true;
    }
    OpenState o = null;
    boolean added = false;
    try {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (existing != null && !java.util.Objects.equals(existing.fileKey(), a.fileKey())) {
        // The name went to another file while this open ran (removed and created again, renamed
        // over): the channel may be the old file's, and must not be filed under the new one's handle
        // (OdafsStressTest's readers then read a removed file through the current handle). Nothing
        // has changed yet: DELAY, and the client sends the open again.
        throw new OpException(Status.DELAY, r.name() + " was replaced while it was being opened");
      }
      FileNode node;
      try {
        node = p.getParent().equals(dir.path()) ? handles.child(dir, p.getFileName().toString(), a) : export.nodeOf(p);
      } catch (java.nio.file.NoSuchFileException e) {
        // Removed or replaced since the stat above (the table looks again): the channel is a removed
        // file's, which must get no node, since its inode number may be another file's already.
        // Nothing has changed yet: DELAY, as above.
        throw new OpException(Status.DELAY, r.name() + " was removed while it was being opened");
      }
      o = new OpenState(s.newStateId(random), s, node, channel, r.access(), r.deny(), openBudget);
      channel = null; // the open owns it, and its descriptor's place in the budget, from here: closing it releases both
      budgeted = false;
      Grant<FileNode, ServerSession> g;
      // One decision per file: other clients' delegations come back before this open (and its
      // truncation) takes effect, and no other open can slip in between the check and the grant.
      synchronized (node) {
        // Before anything this open lets clients cache (a delegation, exported blocks): from here on
        // another process's open of the file waits until that is undone.
        fence.watch(node);
        delegations.check(node, s, write ? FileAccess.OPEN_WRITE : FileAccess.OPEN_READ);
        makeWayForShares(node, o);
        checkShares(node, o, Status.SHARE_DENIED);
        // Truncate only once the checks passed, so a refused or waiting open changes nothing.
        if (truncate && !o.isDirectory()) {
          FileChannel ch = o.use();
          node.data().writeLock().lock();
          try {
            ch.truncate(0);
          } finally {
            exported.truncated(node, 0);
            node.data().writeLock().unlock();
            o.done();
          }
        }
        register(node, s, o);
        added = true;
        boolean refused = (r.flags() & Requests.Open.NO_DELEGATION) != 0 || o.isDirectory();
        g = delegations.grant(node, s, write, refused);
      }
      int type = g == null ? Opened.DELEGATION_NONE : g.type() == DelegationType.WRITE ? Opened.DELEGATION_WRITE : Opened.DELEGATION_READ;
      return new Opened(o.stateId(), node.handle(), Export.attributes(p), type, g == null ? 0 : g.id());
    } finally {
      if (o != null) {
        if (!added) {
          o.close();
        }
      } else {
        if (channel != null) {
          channel.close();
        }
        if (budgeted) {
          openBudget.release();
        }
      }
    }
  }

  /** The options of a channel for an open with {@code access}: never following a final symlink. */
  private static Set<OpenOption> options(int access) {
    Set<OpenOption> opts = new HashSet<>();
    opts.add(LinkOption.NOFOLLOW_LINKS);
    if ((access & Requests.Open.ACCESS_READ) != 0) {
      opts.add(StandardOpenOption.READ);
    }
    if ((access & Requests.Open.ACCESS_WRITE) != 0) {
      opts.add(StandardOpenOption.WRITE);
    }
    return opts;
  }

  /** A channel whose descriptor is taken from the open-files budget: closing its open gives both back. */
  private FileChannel openCounted(Path p, Set<OpenOption> opts, java.nio.file.attribute.FileAttribute<?>... attrs) throws OpException, IOException {
    openBudget.acquire();
    try {
      return FileChannel.open(p, opts, attrs);
    } catch (IOException | RuntimeException e) {
      openBudget.release();
      throw e;
    }
  }

  /**
   * OPEN_RECLAIM, in grace, from a client the server knew before its restart (the dispatcher checked
   * both): the open it had, under the state id it kept, with its share modes, and the delegation it
   * held on the file, under its old id. The file is found by its handle, which outlived the server.
   * The same reclaim again (a retransmission after a reconnect) finds it done. An open that would
   * not fit what the server holds now (share modes, a state id in use) is RECLAIM_CONFLICT; a
   * delegation that would not is left out of the reply (NONE), and the open is reclaimed without it.
   */
  Opened reclaimOpen(Requests.Reclaim r, ServerSession s, Grace grace) throws OpException, IOException {
    FileNode node = handles.resolve(r.handle());
    Path p = node.path();
    if (r.stateId() != 0) {
      OpenState had = s.openOrNull(r.stateId());
      if (had == null) {
        reclaimedOpen(r, s, node, p);
        grace.opensReclaimed.increment();
      } else if (had.node() != node || had.access() != r.access() || had.deny() != r.deny()) {
        grace.reclaimsRefused.increment();
        throw new OpException(Status.RECLAIM_CONFLICT, "this session has another open under that state id");
      }
    }
    int type = Opened.DELEGATION_NONE;
    if (r.delegation() != Opened.DELEGATION_NONE) {
      DelegationType wanted = r.delegation() == Opened.DELEGATION_WRITE ? DelegationType.WRITE : DelegationType.READ;
      Grant<FileNode, ServerSession> g;
      synchronized (node) {
        fence.watch(node); // before the client caches again: a local process's open now waits for the delegation
        g = delegations.reclaim(node, s, r.delegationId(), wanted);
      }
      if (g != null) {
        type = r.delegation();
        grace.delegationsReclaimed.increment();
      } else if (r.stateId() == 0) {
        grace.reclaimsRefused.increment();
        throw new OpException(Status.RECLAIM_CONFLICT, "the delegation conflicts with one the server holds now");
      }
    }
    return new Opened(r.stateId(), node.handle(), Export.attributes(p), type, type == Opened.DELEGATION_NONE ? 0 : r.delegationId());
  }

  /** Opens the reclaimed file again and files the open under its old state id, as {@link #open} files a new one. */
  private void reclaimedOpen(Requests.Reclaim r, ServerSession s, FileNode node, Path p) throws OpException, IOException {
    boolean write = (r.access() & Requests.Open.ACCESS_WRITE) != 0;
    if (s.openCount() >= limits.maxOpensPerSession()) {
      throw new OpException(Status.RESOURCE, "this session holds " + s.openCount() + " open files, the most one session may (--max-opens-per-session)");
    }
    if (node.isDirectory() && write) {
      throw new OpException(Status.ISDIR, "a directory is opened for reading only");
    }
    FileChannel channel = node.isDirectory() ? null : openCounted(p, options(r.access()));
    OpenState o = new OpenState(r.stateId(), s, node, channel, r.access(), r.deny(), openBudget);
    boolean added = false;
    try {
      if (channel != null && !java.util.Objects.equals(node.fileKey(),
          Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey())) {
        throw new OpException(Status.DELAY, "the file was replaced while it was being opened"); // as in open: the client sends it again
      }
      synchronized (node) {
        fence.watch(node);
        checkShares(node, o, Status.RECLAIM_CONFLICT);
        register(node, s, o);
        added = true;
      }
    } finally {
      if (!added) {
        o.close();
      }
    }
  }

  /** Under the file's monitor: fails with {@code conflict} if another open of the file denies this one's access, or has access it denies (NFSv4 share reservations). */
  private static void checkShares(FileNode node, OpenState o, Status conflict) throws OpException {
    for (OpenState other : node.opens()) {
      if (sharesConflict(other, o)) {
        throw new OpException(conflict, "another open denies this access, or has access this open denies");
      }
    }
  }

  /** A courtesy session whose share reservation is in the way ends first; the open runs again once it has. */
  private void makeWayForShares(FileNode node, OpenState o) throws RecallPending {
    for (OpenState other : node.opens()) {
      if (sharesConflict(other, o) && other.owner().courtesy()) {
        RecallPending wait = courtesy.makeWay(other.owner(), "its share reservation on " + node);
        if (wait != null) {
          throw wait;
        }
      }
    }
  }

  private static boolean sharesConflict(OpenState other, OpenState o) {
    return (other.deny() & o.access()) != 0 || (o.deny() & other.access()) != 0;
  }

  /**
   * Under the file's monitor, once the checks passed: files the open with the file, its session (under
   * its state id, which a reclaim brings: RECLAIM_CONFLICT if the session uses it already) and the
   * delegation table. A session that ended while the open waited gets it taken back (BADSESSION): it
   * must not outlive the session.
   */
  private void register(FileNode node, ServerSession s, OpenState o) throws OpException {
    if (!s.addOpen(o)) {
      throw new OpException(Status.RECLAIM_CONFLICT, "this session has another open under that state id");
    }
    node.opens().add(o);
    if (s.ended()) {
      node.opens().remove(o);
      s.removeOpenQuietly(o);
      throw new OpException(Status.BADSESSION, "the session ended");
    }
    delegations.opened(node, s, o.canRead(), o.canWrite());
  }

  void close(Requests.StateArg r, ServerSession s) throws OpException {
    OpenState o = s.removeOpen(r.stateId());
    FileNode node = o.node();
    synchronized (node) {
      node.opens().remove(o);
    }
    delegations.closed(node, s, o.canRead(), o.canWrite());
    if (!s.hasOpenOn(node)) {
      s.changeLockedRanges(-node.locks().releaseAll(s), Integer.MAX_VALUE);
    }
    ServerSession.closeQuietly(o);
    handles.released(node);
  }

  /** Checks the open for reading, once other clients' WRITE delegations on the file are back. */
  private OpenState readable(OpenState o, ServerSession s) throws OpException, RecallPending {
    usable(o);
    delegations.check(o.node(), s, FileAccess.READ_DATA);
    if (o.isDirectory()) {
      throw new OpException(Status.ISDIR, "is a directory");
    }
    if (!o.canRead()) {
      throw new OpException(Status.ACCES, "the open is not for reading");
    }
    return o;
  }

  /** Checks the open for writing, once other clients' delegations on the file are back. */
  private OpenState writable(OpenState o, ServerSession s) throws OpException, RecallPending {
    usable(o);
    delegations.check(o.node(), s, FileAccess.WRITE_DATA);
    if (o.isDirectory()) {
      throw new OpException(Status.ISDIR, "is a directory");
    }
    if (!o.canWrite()) {
      throw new OpException(Status.ACCES, "the open is not for writing");
    }
    return o;
  }

  static void usable(OpenState o) throws OpException {
    if (o.isRevoked()) {
      throw new OpException(Status.DELEG_REVOKED, "a delegation on this file was revoked from this open: close it and open again");
    }
  }

  ReadData read(Requests.Read r, ServerSession s) throws OpException, IOException, RecallPending {
    OpenState o = readable(s.open(r.stateId()), s);
    FileChannel ch = o.use();
    o.node().data().readLock().lock();
    try {
      ByteBuffer buf = ByteBuffer.allocate(r.length());
      long pos = readFully(ch, buf, r.offset());
      boolean eof = pos >= ch.size();
      References refs = r.wantsReferences() ? references(o, s, ch, r.offset(), buf.remaining()) : References.NONE;
      return new ReadData(eof, buf, refs);
    } finally {
      o.node().data().readLock().unlock();
      o.done();
    }
  }

  /** Reads from {@code pos} until {@code buf} is full or the file ends; flips it; returns the position reached. */
  private static long readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos);
      if (n < 0) {
        break;
      }
      pos += n;
    }
    buf.flip();
    return pos;
  }

  /** REFERENCES: references to a range of the open's blocks, filling the exported cache with those not in it. */
  References references(Requests.ReferenceRange r, ServerSession s) throws OpException, IOException, RecallPending {
    OpenState o = readable(s.open(r.stateId()), s);
    FileChannel ch = o.use();
    o.node().data().readLock().lock();
    try {
      Connection c = s.connection();
      if (c == null || !exported.reachableFrom(c.domain())) {
        return References.NONE;
      }
      return referencesFor(o.node(), ch, r.first(), r.count(), c.domain());
    } finally {
      o.node().data().readLock().unlock();
      o.done();
    }
  }

  /**
   * References to the exported cache's blocks of the file under {@code [offset, offset + length)}
   * (at most {@link Limits#MAX_REFERENCES}), for an open with read access, in the descriptors of the
   * transport the session runs on. Blocks not resident are read from the file and filled first.
   */
  private References references(OpenState o, ServerSession s, FileChannel ch, long offset, long length) throws IOException {
    Connection c = s.connection();
    if (!exported.enabled() || !o.canRead() || length <= 0 || c == null || !exported.reachableFrom(c.domain())) {
      return References.NONE;
    }
    int b = exported.blockSize();
    long first = offset / b;
    long last = (offset + length - 1) / b;
    return referencesFor(o.node(), ch, first, (int) Math.min(last - first + 1, Limits.MAX_REFERENCES), c.domain());
  }

  private References referencesFor(FileNode node, FileChannel ch, long first, int count, MemoryDomain domain) throws IOException {
    int bs = exported.blockSize();
    long size = ch.size();
    List<Reference> refs = new java.util.ArrayList<>();
    ByteBuffer buf = null;
    for (long block = first; block < first + count && block <= (size - 1) / bs && size > 0; block++) {
      Reference ref = exported.reference(node, block, domain);
      if (ref == null) {
        long epoch = exported.epochBeforeRead(node); // before the bytes are read: a change after it withdraws the fill
        if (epoch < 0) {
          break;
        }
        buf = buf == null ? ByteBuffer.allocate(bs) : buf.clear();
        readFully(ch, buf, block * bs);
        if (!buf.hasRemaining()) {
          break;
        }
        if (exported.fill(node, block, buf, epoch)) {
          ref = exported.reference(node, block, domain);
        }
      }
      if (ref != null) {
        refs.add(ref);
      }
    }
    return refs.isEmpty() ? References.NONE : new References(bs, refs);
  }

  Count write(Requests.Write r, ServerSession s) throws OpException, IOException, RecallPending {
    OpenState o = s.open(r.stateId());
    o.writing().lock();
    try {
      writable(o, s);
      checkEnd(r.offset(), r.data().remaining());
      export.checkFileSize(r.offset(), r.data().remaining());
      FileChannel ch = o.use();
      o.node().data().writeLock().lock();
      try {
        ByteBuffer data = r.data().duplicate();
        long pos = r.offset();
        while (data.hasRemaining()) {
          pos += ch.write(data, pos);
        }
      } finally {
        exported.changed(o.node(), r.offset(), r.data().remaining()); // after the file changed, even part way
        o.node().data().writeLock().unlock();
        o.done();
      }
      return new Count(r.data().remaining(), false);
    } finally {
      o.writing().unlock();
    }
  }

  /** Direct read: one-sided writes from the file into the client's region. */
  Count readDirect(Requests.Direct r, ServerSession s) throws OpException, IOException, TransferInterrupted, RecallPending {
    OpenState o = readable(s.open(r.stateId()), s);
    Count c = scatter(o, s, r.offset(), List.of(new Requests.Segment(r.region(), r.regionOffset(), r.length())), r.length());
    if (!r.wantsReferences() || c.count() == 0) {
      return c;
    }
    FileChannel ch = o.use();
    o.node().data().readLock().lock();
    try {
      return new Count(c.count(), c.eof(), references(o, s, ch, r.offset(), c.count()));
    } finally {
      o.node().data().readLock().unlock();
      o.done();
    }
  }

  /** Scatter read: as a direct read, but the bytes are placed segment after segment. */
  Count readDirectV(Requests.DirectV r, ServerSession s) throws OpException, IOException, TransferInterrupted, RecallPending {
    OpenState o = readable(s.open(r.stateId()), s);
    return scatter(o, s, r.offset(), r.segments(), r.length());
  }

  /**
   * Places {@code length} bytes of the file from {@code offset} into {@code segments}, in order, by
   * one-sided writes: straight from the file, or through staging chunks for a loopback tcp peer (see
   * the two methods below).
   */
  private Count scatter(OpenState o, ServerSession s, long offset, List<Requests.Segment> segments, int length)
      throws OpException, IOException, TransferInterrupted {
    FileChannel ch = o.use();
    try {
      return scatter(ch, o.node(), s, offset, segments, length);
    } finally {
      o.done();
    }
  }

  /**
   * Places the file's bytes into the segments through a staging chunk: read into registered memory,
   * then one-sided writes from it. Used for loopback peers: there the kernel copies the bytes once
   * more anyway, and sendfile measured slower than a copy (on a 2-vCPU VM, uncached 1 MiB sequential
   * reads at 331-338 MB/s with sendfile against 518-802 MB/s through staging, runs interleaved).
   */
  private Count scatterThroughStaging(FileChannel ch, FileNode node, ServerSession s, long offset, List<Requests.Segment> segments, int length)
      throws OpException, IOException, TransferInterrupted {
    Connection c = connectionOf(s);
    StagingPool staging = stagingFor.apply(c);
    int done = 0;
    int segment = 0;
    int intoSegment = 0;
    boolean eof = false;
    while (done < length && !eof) {
      int want = Math.min(staging.chunkSize(), length - done);
      int chunk = acquire(s, staging);
      java.util.concurrent.CompletableFuture<Void> last = null;
      try {
        ByteBuffer view = staging.view(chunk, want);
        long pos = offset + done;
        // Shared only around the file read: a chunk is read whole, and no lock is held while the
        // bytes go to the client (a writer waiting on it would stall the receive threads' inline reads).
        node.data().readLock().lock();
        try {
          while (view.hasRemaining()) {
            int n = ch.read(view, pos);
            if (n < 0) {
              eof = true;
              break;
            }
            pos += n;
          }
        } finally {
          node.data().readLock().unlock();
        }
        int got = view.position();
        int sent = 0;
        while (sent < got) {
          Requests.Segment sg = segments.get(segment);
          int n = Math.min(sg.length() - intoSegment, got - sent);
          RemoteRegion target = nameable(c, sg.region());
          last = c.write(staging.region(), chunk + sent, target, sg.regionOffset() + intoSegment, n);
          await(c, last);
          sent += n;
          intoSegment += n;
          if (intoSegment == sg.length()) {
            segment++;
            intoSegment = 0;
          }
        }
        done += got;
      } finally {
        release(s, staging, chunk, last);
      }
    }
    sameConnection(s, c);
    directBytesOut.add(done);
    return new Count(done, offset + done >= ch.size());
  }

  /**
   * Places the file's bytes into the segments, in order, by one-sided writes straight from the file:
   * on tcp the kernel's sendfile, for a peer across a network (the bytes never pass through this
   * process's memory); on a transport that needs no peer CPU (shm), a read from the file into the
   * client's own memory, one copy. The reply goes after the last of them, on the same connection, so it arrives
   * after the data.
   */
  private Count scatter(FileChannel ch, FileNode node, ServerSession s, long offset, List<Requests.Segment> segments, int length)
      throws OpException, IOException, TransferInterrupted {
    Connection c = connectionOf(s);
    // Where one-sided transfers need no peer CPU (shm), the file is read straight into the client's
    // memory: one copy. Over loopback tcp a copy through staging beats sendfile (measured, above).
    if (c.peerIsLocal() && !c.capabilities().oneSidedWithoutPeerCpu()) {
      return scatterThroughStaging(ch, node, s, offset, segments, length);
    }
    // The bytes are read from the file as they go (a copy on shm, sendfile on tcp): shared until then.
    node.data().readLock().lock();
    try {
      return scatterFromFile(ch, c, s, offset, segments, length);
    } finally {
      node.data().readLock().unlock();
    }
  }

  private Count scatterFromFile(FileChannel ch, Connection c, ServerSession s, long offset, List<Requests.Segment> segments, int length)
      throws OpException, IOException, TransferInterrupted {
    long size = ch.size();
    int total = (int) Math.max(0, Math.min(length, size - offset));
    List<java.util.concurrent.CompletableFuture<Void>> sent = new java.util.ArrayList<>(segments.size());
    int done = 0;
    for (Requests.Segment sg : segments) {
      if (done == total) {
        break;
      }
      int n = Math.min(sg.length(), total - done);
      sent.add(c.writeFromFile(ch, offset + done, n, nameable(c, sg.region()), sg.regionOffset()));
      done += n;
    }
    for (java.util.concurrent.CompletableFuture<Void> f : sent) {
      await(c, f);
    }
    sameConnection(s, c);
    directBytesOut.add(total);
    return new Count(total, offset + total >= size);
  }

  /** Direct write: one-sided read of the client's region into a staging chunk → file, chunk by chunk. */
  Count writeDirect(Requests.Direct r, ServerSession s) throws OpException, IOException, TransferInterrupted, RecallPending {
    OpenState o = s.open(r.stateId());
    o.writing().lock();
    try {
      return writeDirect(r, s, o);
    } finally {
      o.writing().unlock();
    }
  }

  private Count writeDirect(Requests.Direct r, ServerSession s, OpenState o) throws OpException, IOException, TransferInterrupted, RecallPending {
    writable(o, s);
    checkEnd(r.offset(), r.length());
    export.checkFileSize(r.offset(), r.length());
    FileChannel ch = o.use();
    try {
      return writeDirect(r, s, ch, o.node());
    } finally {
      o.done();
      exported.changed(o.node(), r.offset(), r.length()); // after the file changed, even part way
    }
  }

  private Count writeDirect(Requests.Direct r, ServerSession s, FileChannel ch, FileNode node) throws OpException, IOException, TransferInterrupted {
    Connection c = connectionOf(s);
    RemoteRegion source = nameable(c, r.region());
    StagingPool staging = stagingFor.apply(c);
    int done = 0;
    while (done < r.length()) {
      int want = Math.min(staging.chunkSize(), r.length() - done);
      int chunk = acquire(s, staging);
      java.util.concurrent.CompletableFuture<Void> read = null;
      try {
        read = c.read(staging.region(), chunk, source, r.regionOffset() + done, want);
        await(c, read);
        ByteBuffer view = staging.view(chunk, want);
        long pos = r.offset() + done;
        node.data().writeLock().lock(); // around the file's change only, not the wait for the client's bytes
        try {
          while (view.hasRemaining()) {
            pos += ch.write(view, pos);
          }
        } finally {
          exported.changed(node, r.offset() + done, want);
          node.data().writeLock().unlock();
        }
        done += want;
      } finally {
        release(s, staging, chunk, read);
      }
    }
    sameConnection(s, c);
    directBytesIn.add(done);
    return new Count(done, false);
  }

  private static void checkEnd(long offset, long length) throws OpException {
    if (offset > Long.MAX_VALUE - length) {
      throw new OpException(Status.FBIG, "write past the largest file offset");
    }
  }

  private static Connection connectionOf(ServerSession s) throws TransferInterrupted {
    Connection c = s.connection();
    if (c == null || !c.isOpen()) {
      throw new TransferInterrupted("the session has no connection for the transfer");
    }
    return c;
  }

  /**
   * The client's region as {@code c} can name it. A descriptor of another transport means the session
   * is between transports (a session on shm reconnecting binds on tcp first, then moves back): the
   * request is abandoned unanswered, as when the session moves mid-transfer, and the client sends it
   * again on the connection its memory belongs to. It must not be answered BAD_REGION: the reply
   * cache would keep that answer for the retransmission.
   */
  private static RemoteRegion nameable(Connection c, org.cachedafs.protocol.RegionDescriptor d) throws TransferInterrupted {
    RemoteRegion r = RemoteRegion.of(d.bytes());
    if (!c.canName(r)) {
      throw new TransferInterrupted("the session's connection is of another transport than the request's memory");
    }
    return r;
  }

  /** A reply is sent on the session's current connection: only if the data went there too. */
  private static void sameConnection(ServerSession s, Connection c) throws TransferInterrupted {
    if (s.connection() != c || !c.isOpen()) {
      throw new TransferInterrupted("the session moved to another connection during the transfer");
    }
  }

  /**
   * A staging chunk for one of {@code s}'s transfers: at most {@link ServerSession#STAGING_PER_SESSION}
   * per session, and no longer a wait than the stall timeout, after which the request gets DELAY and
   * the client sends it again (the slot is left as if it never ran).
   */
  private int acquire(ServerSession s, StagingPool staging) throws OpException {
    long timeout = limits.transferTimeout().toMillis();
    try {
      if (!s.stagingPermits.tryAcquire(timeout, TimeUnit.MILLISECONDS)) {
        throw new OpException(Status.DELAY, "this session's direct transfers are all waiting on its memory");
      }
      int chunk = staging.acquire(timeout);
      if (chunk < 0) {
        s.stagingPermits.release();
        throw new OpException(Status.DELAY, "the server's staging memory is all in use");
      }
      return chunk;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OpException(Status.SERVERFAULT, "interrupted");
    }
  }

  /**
   * Gives a chunk back once the last one-sided transfer through it is over: the transport reads a
   * one-sided write's source, and places a read's bytes, until the transfer's future completes, so
   * a chunk given back earlier (a transfer that timed out) could be read or overwritten under
   * another session's transfer.
   */
  private void release(ServerSession s, StagingPool staging, int chunk, java.util.concurrent.CompletableFuture<Void> last) {
    Runnable give = () -> {
      staging.release(chunk);
      s.stagingPermits.release();
    };
    if (last == null || last.isDone()) {
      give.run();
    } else {
      last.whenComplete((v, e) -> give.run());
    }
  }


  /**
   * Waits for a one-sided transfer, no longer than the connection would tolerate a stalled peer. A
   * transfer that does not finish in time closes the connection: that ends the transfer for certain
   * (its memory is then the server's again), and the client, reconnecting, sends the request again.
   */
  private void await(Connection c, java.util.concurrent.CompletableFuture<Void> f) throws OpException, TransferInterrupted {
    try {
      f.get(limits.transferTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RemoteAccessException || cause instanceof IllegalArgumentException) {
        throw new OpException(Status.BAD_REGION, cause.getMessage());
      }
      throw new TransferInterrupted("one-sided transfer failed: " + cause);
    } catch (TimeoutException e) {
      c.close();
      throw new TransferInterrupted("one-sided transfer not done within " + limits.transferTimeout().toMillis()
          + " ms: the connection was closed");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OpException(Status.SERVERFAULT, "interrupted");
    }
  }


  void lock(Requests.Lock r, ServerSession s) throws OpException, RecallPending {
    OpenState o = s.open(r.stateId());
    if (!o.node().handle().equals(r.handle())) {
      throw new OpException(Status.BAD_STATEID, "the state id belongs to another file");
    }
    usable(o);
    if (r.range().exclusive() ? !o.canWrite() : !o.canRead()) {
      throw new OpException(Status.ACCES, "a " + (r.range().exclusive() ? "write" : "read") + " lock needs the open to allow it");
    }
    delegations.check(o.node(), s, r.range().exclusive() ? FileAccess.LOCK_EXCLUSIVE : FileAccess.LOCK_SHARED);
    if (o.isDirectory()) {
      throw new OpException(Status.ISDIR, "cannot lock a directory");
    }
    take(o, s, r.range(), Status.DENIED);
  }

  /**
   * LOCK_RECLAIM, in grace, from a client the server knew: the byte range it held before the
   * restart, through an open it has reclaimed. Nothing is recalled (the delegations on the file are
   * being reclaimed too, and were consistent with the lock before). A range another session holds
   * now is RECLAIM_CONFLICT; the same reclaim again changes nothing.
   */
  void reclaimLock(Requests.Lock r, ServerSession s, Grace grace) throws OpException, RecallPending {
    OpenState o = s.open(r.stateId());
    if (!o.node().handle().equals(r.handle())) {
      throw new OpException(Status.BAD_STATEID, "the state id belongs to another file");
    }
    if (o.isDirectory()) {
      throw new OpException(Status.ISDIR, "cannot lock a directory");
    }
    if (r.range().exclusive() ? !o.canWrite() : !o.canRead()) {
      throw new OpException(Status.ACCES, "a " + (r.range().exclusive() ? "write" : "read") + " lock needs the open to allow it");
    }
    try {
      take(o, s, r.range(), Status.RECLAIM_CONFLICT);
    } catch (OpException e) {
      if (e.status() == Status.RECLAIM_CONFLICT) {
        grace.reclaimsRefused.increment();
      }
      throw e;
    }
    grace.locksReclaimed.increment();
  }

  /**
   * Takes {@code range} for {@code s} on the open's file within the session's limit; a conflict fails with
   * {@code onConflict}, unless its holder is a courtesy session, which ends first (the request runs again).
   */
  private void take(OpenState o, ServerSession s, LockRange range, Status onConflict) throws OpException, RecallPending {
    // Reserve the most one lock can add first, so that concurrent locks cannot pass the limit together.
    if (!s.changeLockedRanges(ByteRangeLocks.MAX_RANGES_ADDED, limits.maxLocksPerSession())) {
      throw new OpException(Status.RESOURCE, "this session holds the most locked byte ranges one session may: "
          + limits.maxLocksPerSession() + " (--max-locks-per-session)");
    }
    ByteRangeLocks.Change change = o.node().locks().lock(s, range);
    s.changeLockedRanges(change.rangesAdded() - ByteRangeLocks.MAX_RANGES_ADDED, Integer.MAX_VALUE);
    if (change.conflict() != null) {
      LockRange conflict = change.conflict();
      RecallPending wait = change.holder().courtesy() ? courtesy.makeWay(change.holder(), "its lock on " + o.node()) : null;
      if (wait != null) {
        throw wait;
      }
      throw new OpException(onConflict, "held by another session: " + conflict.offset() + "+" + conflict.length());
    }
  }

  LockTest testLock(Requests.Lock r, ServerSession s) throws OpException {
    FileNode n = handles.resolve(r.handle());
    return new LockTest(n.locks().conflict(s, r.range()));
  }

  /** DELEGRETURN. */
  void returnDelegation(Requests.Delegation r, ServerSession s) throws OpException {
    switch (delegations.returned(r.delegationId(), s)) {
      case RETURNED -> { }
      case REVOKED -> throw new OpException(Status.DELEG_REVOKED, "the delegation was revoked before it was returned");
      default -> throw new OpException(Status.BAD_STATEID, "no such delegation in this session");
    }
  }

  void unlock(Requests.Lock r, ServerSession s) throws OpException {
    OpenState o = s.open(r.stateId());
    if (!o.node().handle().equals(r.handle())) {
      throw new OpException(Status.BAD_STATEID, "the state id belongs to another file");
    }
    // An unlock inside a range splits it in two: within the limit like a lock, but one that only
    // shrinks is always allowed, so a session at its limit can still let go.
    boolean mayGrow = s.changeLockedRanges(1, limits.maxLocksPerSession());
    java.util.OptionalInt change = o.node().locks().unlock(s, r.range(), mayGrow);
    if (change.isEmpty()) {
      throw new OpException(Status.RESOURCE, "unlocking inside a range would split it past the most locked ranges one session may: "
          + limits.maxLocksPerSession() + " (--max-locks-per-session)");
    }
    s.changeLockedRanges(change.getAsInt() - (mayGrow ? 1 : 0), Integer.MAX_VALUE);
  }
}
