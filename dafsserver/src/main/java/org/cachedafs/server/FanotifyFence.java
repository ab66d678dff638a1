package org.cachedafs.server;

import static org.cachedafs.server.Fanotify.FAN_ALLOW;
import static org.cachedafs.server.Fanotify.FAN_ATTRIB;
import static org.cachedafs.server.Fanotify.FAN_CLASS_CONTENT;
import static org.cachedafs.server.Fanotify.FAN_CLOEXEC;
import static org.cachedafs.server.Fanotify.FAN_CLOSE;
import static org.cachedafs.server.Fanotify.FAN_DELETE_SELF;
import static org.cachedafs.server.Fanotify.FAN_MARK_ADD;
import static org.cachedafs.server.Fanotify.FAN_MARK_DONT_FOLLOW;
import static org.cachedafs.server.Fanotify.FAN_MARK_REMOVE;
import static org.cachedafs.server.Fanotify.FAN_MODIFY;
import static org.cachedafs.server.Fanotify.FAN_MOVE_SELF;
import static org.cachedafs.server.Fanotify.FAN_NOFD;
import static org.cachedafs.server.Fanotify.FAN_NONBLOCK;
import static org.cachedafs.server.Fanotify.FAN_OPEN_PERM;
import static org.cachedafs.server.Fanotify.FAN_Q_OVERFLOW;
import static org.cachedafs.server.Fanotify.FAN_REPORT_FID;
import static org.cachedafs.server.Fanotify.FAN_UNLIMITED_MARKS;
import static org.cachedafs.server.Fanotify.FAN_UNLIMITED_QUEUE;
import static org.cachedafs.server.Fanotify.O_LARGEFILE;
import static org.cachedafs.server.Fanotify.O_RDONLY;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import jnr.ffi.Pointer;
import org.cachedafs.delegation.Conflict;
import org.cachedafs.logging.Loggers;
import org.cachedafs.protocol.FileType;
import org.slf4j.Logger;

/**
 * The local-writer fence on fanotify(7).
 *
 * <p><b>Two groups</b>, since the kernel refuses file-handle reporting in a group that gets
 * permission events (FAN_REPORT_FID with FAN_CLASS_CONTENT is EINVAL, still on 6.18):
 * <ul>
 *   <li>the <i>open</i> group (FAN_CLASS_CONTENT): FAN_OPEN_PERM, FAN_CLOSE_WRITE, FAN_CLOSE_NOWRITE,
 *       each event with a descriptor of the file, which names it (its device and inode);</li>
 *   <li>the <i>change</i> group (FAN_REPORT_FID): FAN_MODIFY, FAN_ATTRIB, FAN_MOVE_SELF, FAN_DELETE_SELF,
 *       each event with the file's handle. Truncate(2) by path, rename and unlink open nothing, so only
 *       these see them, after the fact; so do writes through a descriptor opened before the watch.</li>
 * </ul>
 * Both mark the inodes of watched files only: a mount or file-system mark would make every open on
 * that file system wait on this JVM. Both queues are unlimited (FAN_UNLIMITED_QUEUE), so no close is lost.
 *
 * <p><b>A local open</b> (FAN_OPEN_PERM from another process): the kernel says nothing of its access
 * mode, so it counts as a writer. The fence counts it (per process id: a close is matched to an open
 * of the same process, since descriptors cannot be), recalls every delegation on the file, wipes the
 * file's exported slots and stops their filling, and only then allows the open: at once if nothing
 * was delegated, else when the recall resolves (a return, or a revocation at the lease). The
 * kernel's closes (FAN_CLOSE_*, two if two were merged) count down; at zero, grants and fills resume.
 *
 * <p><b>The server's own opens</b> come as permission events too: an event of this process is
 * allowed before anything else is looked at, with no lock an opening thread may hold (the node
 * monitors, the file's data lock), and counted nowhere.
 *
 * <p><b>Every path answers.</b> Each permission event is answered exactly once, and its descriptor
 * closed after the answer: at once, or from the future that waits for the recall (bounded by the lease
 * plus a second, whatever happens to the recall). A failure handling one event allows it. If the
 * thread ends for any reason, it closes the groups, and the kernel then allows every open still waiting
 * and watches nothing more; {@link #active} turns false and the server logs that local writers are no
 * longer fenced. The descriptors are used and closed under one lock, so no answer can go to a number
 * the process has reused.
 */
final class FanotifyFence implements LocalFence {
  private static final Logger log = Loggers.get(FanotifyFence.class);
  private static final long OPEN_EVENTS = FAN_OPEN_PERM | FAN_CLOSE;
  private static final long CHANGE_EVENTS = FAN_MODIFY | FAN_ATTRIB | FAN_MOVE_SELF | FAN_DELETE_SELF;
  private static final int BUFFER_BYTES = 64 << 10;
  private static final int METADATA_BYTES = 24;

  /** A watched file: its node, its handle (null where its file system gives none), its local opens by process. */
  private static final class Watch {
    final FileNode node;
    final Fanotify.FileId id;
    /** Only the fence's thread uses it. */
    final Map<Integer, Integer> opensByPid = new HashMap<>();

    Watch(FileNode node, Fanotify.FileId id) {
      this.node = node;
      this.id = id;
    }
  }

  private final Fanotify fan;
  private final Delegations delegations;
  private final ExportedCache exported;
  /** How long a local open waits for a recall at most: the lease, then a second for the revocation to run. */
  private final long waitBoundMillis;
  private final int self = (int) ProcessHandle.current().pid();
  private final int openGroup;
  private final int changeGroup;
  private final int wake;
  /** Guards the three descriptors above and {@link #pending}: reads, answers and closes. */
  private final Object io = new Object();
  /** Guarded by io. */
  private boolean open = true;
  /** Guarded by io: descriptors of permission events answered later, when their recall resolves. */
  private final Set<Integer> pending = new HashSet<>();
  private final Map<Object, Watch> byFileKey = new ConcurrentHashMap<>();
  private final Map<Fanotify.FileId, Watch> byFileId = new ConcurrentHashMap<>();
  private final Map<FileNode, Watch> byNode = new ConcurrentHashMap<>();
  private final Thread thread;
  private volatile boolean running = true;
  /** A test's way to make the thread fail as a bug would (on the next event of another process). */
  private volatile boolean failNextEvent;
  private volatile boolean saidNoHandles;
  private final LongAdder localOpens = new LongAdder();
  private final LongAdder localCloses = new LongAdder();
  private final LongAdder openWaits = new LongAdder();
  private final LongAdder changes = new LongAdder();

  private FanotifyFence(Fanotify fan, int openGroup, int changeGroup, int wake, Delegations delegations, ExportedCache exported, Duration lease) {
    this.fan = fan;
    this.openGroup = openGroup;
    this.changeGroup = changeGroup;
    this.wake = wake;
    this.delegations = delegations;
    this.exported = exported;
    this.waitBoundMillis = lease.toMillis() + 1000;
    this.thread = new Thread(this::run, "dafs-local-fence");
    thread.setDaemon(true);
  }

  /** Both groups and the thread; an IOException saying why if the kernel refuses (without CAP_SYS_ADMIN it does). */
  static FanotifyFence start(Fanotify fan, Delegations delegations, ExportedCache exported, Duration lease) throws IOException {
    int flags = FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS;
    int open = fan.init(flags | FAN_CLASS_CONTENT, O_RDONLY | O_LARGEFILE);
    int change = -1;
    int wake = -1;
    try {
      change = fan.init(flags | FAN_REPORT_FID, O_RDONLY | O_LARGEFILE);
      wake = fan.eventfd();
    } catch (IOException e) {
      fan.closeQuietly(open);
      fan.closeQuietly(change);
      throw e;
    }
    FanotifyFence f = new FanotifyFence(fan, open, change, wake, delegations, exported, lease);
    f.thread.start();
    return f;
  }

  // --- watching --------------------------------------------------------------------------------

  @Override
  public void watch(FileNode node) {
    if (node.type() != FileType.REGULAR || node.isRemoved() || byNode.containsKey(node) || !running) {
      return;
    }
    Path p = node.path();
    String path = p.toString();
    Watch w = null;
    try {
      checkSameFile(p, node);
      w = new Watch(node, fileId(path));
      byFileKey.put(node.fileKey(), w);
      if (w.id != null) {
        byFileId.put(w.id, w);
      }
      byNode.put(node, w);
      synchronized (io) {
        if (!open) {
          return;
        }
        fan.mark(openGroup, FAN_MARK_ADD | FAN_MARK_DONT_FOLLOW, OPEN_EVENTS, path);
        if (w.id != null) {
          fan.mark(changeGroup, FAN_MARK_ADD | FAN_MARK_DONT_FOLLOW, CHANGE_EVENTS, path);
        }
      }
      checkSameFile(p, node); // renamed or replaced while it was marked: the marks may be another file's
    } catch (IOException e) {
      if (w != null) {
        unmap(w);
      }
      // Unwatched, a local open of it would go unseen: treat it as open outside the server until the
      // server forgets it, so that nothing caches it. (No recall is waited for: nobody is held up.)
      log.warn("local-writer fence: cannot watch {} ({}); it is not cached until the server forgets it", node, e.getMessage());
      byNode.put(node, new Watch(node, null));
      delegations.localOpened(node);
      exported.fenced(node);
    }
  }

  /** The file's handle for the change group; null (said once) where its file system gives none. */
  private Fanotify.FileId fileId(String path) {
    try {
      return fan.fileId(path);
    } catch (IOException e) {
      if (!saidNoHandles) {
        saidNoHandles = true;
        log.warn("local-writer fence: {}; on such a file system truncations by path, renames and removals by local processes, and writes"
            + " through descriptors they opened before the server did, are not seen (opens still are)", e.getMessage());
      }
      return null;
    }
  }

  private static void checkSameFile(Path p, FileNode node) throws IOException {
    Object key = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    if (!Objects.equals(key, node.fileKey())) {
      throw new IOException(p + " names another file now");
    }
  }

  private void unmap(Watch w) {
    byNode.remove(w.node, w);
    byFileKey.remove(w.node.fileKey(), w);
    if (w.id != null) {
      byFileId.remove(w.id, w);
    }
  }

  @Override
  public void forget(FileNode node) {
    Watch w = byNode.get(node);
    if (w == null) {
      return;
    }
    unmap(w);
    delegations.localClosed(node, Integer.MAX_VALUE);
    // The marks go with the inode when it is deleted; if the path still names the file, now.
    try {
      Path p = node.path();
      checkSameFile(p, node);
      synchronized (io) {
        if (open) {
          fan.mark(openGroup, FAN_MARK_REMOVE | FAN_MARK_DONT_FOLLOW, OPEN_EVENTS, p.toString());
          if (w.id != null) {
            fan.mark(changeGroup, FAN_MARK_REMOVE | FAN_MARK_DONT_FOLLOW, CHANGE_EVENTS, p.toString());
          }
        }
      }
    } catch (IOException e) {
      // Gone or replaced: its events no longer map to a node, and open events of it are allowed at once.
    }
  }

  @Override
  public boolean active() {
    return running;
  }

  @Override
  public ServerStats.LocalFence stats() {
    return new ServerStats.LocalFence(running, byNode.size(), localOpens.sum(), localCloses.sum(), openWaits.sum(), changes.sum(),
        delegations.localRecalls.sum());
  }

  /** Makes the thread fail at the next event of another process, as a bug would (tests). */
  void failNextEvent() {
    failNextEvent = true;
  }

  // --- the thread ------------------------------------------------------------------------------

  /** What an event of one group is handed to: the buffer, where its info records start and end, and its fields. */
  private interface Handler {
    void handle(Pointer events, long info, long end, long mask, int fd, int pid);
  }

  private void run() {
    Pointer buffer = fan.allocate(BUFFER_BYTES);
    Pointer pollfds = fan.allocate(24);
    int[] fds = {openGroup, changeGroup, wake};
    try {
      while (running) {
        int ready = fan.pollReadable(pollfds, fds, -1);
        if ((ready & 1) != 0) {
          drain(openGroup, buffer, this::openEvent);
        }
        if ((ready & 2) != 0) {
          drain(changeGroup, buffer, this::changeEvent);
        }
      }
    } catch (Throwable t) {
      log.error("the local-writer fence stopped ({}): from now on local writers are not fenced", t.toString(), t);
    } finally {
      running = false;
      closeDescriptors(); // the kernel allows every open still waiting, and watches nothing more
    }
  }

  private void drain(int group, Pointer buffer, Handler handler) throws IOException {
    while (true) {
      int n;
      synchronized (io) {
        if (!open) {
          return;
        }
        n = fan.read(group, buffer, BUFFER_BYTES);
      }
      if (n <= 0) {
        return;
      }
      long at = 0;
      try {
        while (at + METADATA_BYTES <= n) {
          int length = buffer.getInt(at);
          int version = buffer.getByte(at + 4) & 0xff;
          int metadata = buffer.getShort(at + 6) & 0xffff;
          if (version != Fanotify.FANOTIFY_METADATA_VERSION || length < METADATA_BYTES || metadata < METADATA_BYTES || at + length > n) {
            throw new IllegalStateException("an fanotify event of version " + version + " and " + length + " bytes: not understood");
          }
          long next = at + length;
          handler.handle(buffer, at + metadata, next, buffer.getLong(at + 8), buffer.getInt(at + 16), buffer.getInt(at + 20));
          at = next;
        }
      } catch (Throwable t) {
        // The thread ends: the events read and not handled keep no descriptor (the kernel allows them when the group closes).
        for (long e = at + buffer.getInt(at); e + METADATA_BYTES <= n && buffer.getInt(e) >= METADATA_BYTES; e += buffer.getInt(e)) {
          fan.closeQuietly(buffer.getInt(e + 16));
        }
        throw t;
      }
    }
  }

  /** An event of the open group: a permission to answer, or closes to count. */
  private void openEvent(Pointer events, long info, long end, long mask, int fd, int pid) {
    if (fd == FAN_NOFD) {
      if ((mask & FAN_Q_OVERFLOW) != 0) {
        overflowed();
      }
      return;
    }
    boolean permission = (mask & FAN_OPEN_PERM) != 0;
    boolean later = false;
    try {
      if (pid == self) {
        return; // the server's own open or close: allowed below at once, counted nowhere
      }
      if (failNextEvent) {
        throw new AssertionError("failure injected by a test");
      }
      Watch w = byFileKey.get(fileKeyOf(fd));
      if (w == null) {
        return; // no longer watched: nothing of it is cached
      }
      if (permission) {
        later = opening(w, fd, pid);
      }
      if ((mask & FAN_CLOSE) != 0) {
        closed(w, pid, Long.bitCount(mask & FAN_CLOSE));
      }
    } catch (IOException | RuntimeException e) {
      log.warn("local-writer fence: an event could not be handled ({}); the open goes on", e.toString());
    } finally {
      if (!later) {
        if (permission) {
          allow(fd);
        }
        fan.closeQuietly(fd);
      }
    }
  }

  /** The device and inode of an event's descriptor, as the server keys files. */
  private static Object fileKeyOf(int fd) throws IOException {
    return Files.readAttributes(Path.of("/proc/self/fd/" + fd), BasicFileAttributes.class).fileKey();
  }

  /**
   * Another process opens a watched file: counted, delegations recalled, exported slots wiped. Returns
   * true if the open waits for the recall (then {@link #answerLater} owns its descriptor).
   */
  private boolean opening(Watch w, int fd, int pid) {
    w.opensByPid.merge(pid, 1, Integer::sum);
    localOpens.increment();
    Conflict<FileNode, ServerSession> c = delegations.localOpened(w.node);
    exported.fenced(w.node);
    if (c.resolved().isDone()) {
      return false;
    }
    openWaits.increment();
    synchronized (io) {
      if (!open) {
        return false;
      }
      pending.add(fd);
    }
    c.resolved().orTimeout(waitBoundMillis, TimeUnit.MILLISECONDS).whenComplete((v, e) -> answerLater(fd));
    return true;
  }

  /** The recall a local open waited on is over (or its bound passed): the open goes on. */
  private void answerLater(int fd) {
    synchronized (io) {
      if (!pending.remove(fd)) {
        return; // the fence closed meanwhile: the kernel allowed it, and the descriptor is closed
      }
      allow(fd);
      fan.closeQuietly(fd);
    }
  }

  private void allow(int fd) {
    synchronized (io) {
      if (!open) {
        return;
      }
      try {
        fan.respond(openGroup, fd, FAN_ALLOW);
      } catch (IOException e) {
        log.warn("local-writer fence: an open could not be allowed ({}); it goes on when the fence closes", e.getMessage());
      }
    }
  }

  /** {@code closes} closes by {@code pid}; those of opens never counted (made before the watch, or inherited) are not. */
  private void closed(Watch w, int pid, int closes) {
    Integer had = w.opensByPid.get(pid);
    if (had == null) {
      return;
    }
    int counted = Math.min(had, closes);
    if (counted == had) {
      w.opensByPid.remove(pid);
    } else {
      w.opensByPid.put(pid, had - counted);
    }
    localCloses.add(counted);
    if (delegations.localClosed(w.node, counted) == 0) {
      exported.unfenced(w.node);
    }
  }

  /** An event of the change group: another process changed a watched file or its name; it has happened. */
  private void changeEvent(Pointer events, long info, long end, long mask, int fd, int pid) {
    fan.closeQuietly(fd); // none in this group; closed should the kernel give one
    if ((mask & FAN_Q_OVERFLOW) != 0) {
      overflowed();
      return;
    }
    if (pid == self) {
      return; // the server's own change: it recalled and wiped before making it
    }
    Fanotify.FileId id = Fanotify.FileId.parse(events, info, end);
    Watch w = id == null ? null : byFileId.get(id);
    if (w == null || w.opensByPid.containsKey(pid)) {
      return; // not watched, or by a process whose open was held and counted: fenced already
    }
    changes.increment();
    delegations.localChanged(w.node);
    exported.truncated(w.node, 0); // every block: the event does not say which changed
    if ((mask & FAN_DELETE_SELF) != 0) {
      unmap(w); // the inode is gone, and its marks with it
    }
  }

  /**
   * Events were lost (not with unlimited queues, but the kernel may say so): every watched file is
   * treated as changed. Counts may now be too high, which only keeps files uncached.
   */
  private void overflowed() {
    log.warn("local-writer fence: the kernel lost events; every watched file's delegations are recalled and its exported blocks wiped");
    for (Watch w : byNode.values()) {
      delegations.localChanged(w.node);
      exported.truncated(w.node, 0);
    }
  }

  @Override
  public void close() {
    running = false;
    synchronized (io) {
      if (open) {
        fan.signal(wake);
      }
    }
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeDescriptors(); // if the thread is stuck in a handler, the groups close all the same
  }

  private void closeDescriptors() {
    synchronized (io) {
      if (!open) {
        return;
      }
      open = false;
      fan.closeQuietly(openGroup);
      fan.closeQuietly(changeGroup);
      fan.closeQuietly(wake);
      pending.forEach(fan::closeQuietly);
      pending.clear();
    }
  }
}
