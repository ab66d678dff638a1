package org.cachedafs.client;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.FsStats;
import org.cachedafs.protocol.LockRange;
import org.cachedafs.protocol.SetAttributes;
import org.cachedafs.transport.Region;

/**
 * A session with a DAFS server, from {@link DafsClient#connect}.
 *
 * <p>Every operation comes in two forms: {@code fooAsync} returns a {@link CompletableFuture}, and
 * {@code foo} waits for it and throws {@link DafsException}. Many requests may be in flight at once:
 * up to the credits the server granted; further requests wait, in order, for a slot, so the caller is
 * never refused for lack of credits. Outstanding requests have no order among themselves.
 *
 * <p>Futures complete on the transport's receive thread. Stages chained with the non-async
 * {@code then...} methods run there and must not block; a blocking call made on that thread throws
 * {@link IllegalStateException} rather than deadlock.
 *
 * <p>A name longer than {@link org.cachedafs.protocol.Limits#MAX_NAME} UTF-8 bytes, a path longer than
 * {@link org.cachedafs.protocol.Limits#MAX_PATH} or with a component longer than {@code MAX_NAME},
 * fails with {@code NAMETOOLONG}, and one with a NUL (or an unpaired surrogate) with {@code INVAL}, as
 * the server would refuse them, but without sending anything.
 *
 * <p>If the connection drops, the session reconnects, binds the new connection to itself and
 * retransmits what was outstanding; the server's reply cache makes that exactly-once. If the server
 * restarted meanwhile (its boot verifier says so), the session makes a new session under its client
 * identity, reclaims its opens, locks and delegations under their old ids in the server's grace
 * period, and then sends what was outstanding: the application sees a pause, and its {@link OpenFile}s
 * go on working (docs/consistency.md, "Server restart"). The lease is renewed in the background. Closing the session destroys it on the server, which releases its opens
 * and locks.
 */
public abstract class DafsSession implements AutoCloseable {
  DafsSession() {}

  /** The root of the export. */
  public abstract FileHandle root();

  public abstract long sessionId();

  public abstract int credits();

  public abstract Duration lease();

  public abstract SessionStats stats();

  /** Counters of the optimistic direct reads of the server's exported cache (ODAFS); all zero with them off. */
  public abstract OdafsStats odafsStats();

  /**
   * Whether requests can still succeed: false once the session is closed or has failed for good
   * ({@link #failure()}). A session that is only reconnecting is open.
   */
  public abstract boolean isOpen();

  /**
   * Whether this client knows its lease to be held now: a reply has come to a request sent less than a
   * lease ago, and the server renews the lease whenever a request arrives, so it cannot have run out
   * yet. False while the server has not been heard from for a lease (a partition, a stall, a very slow
   * link), and once the session has ended: the server may have let the lease go meanwhile and given
   * this session's delegations to other clients, so nothing cached under them may be used until it is
   * true again. It becomes true again when a reply to a request sent since comes (the background
   * renewal's will do, and reports any delegation revoked meanwhile). Cheap: two volatile reads.
   */
  public abstract boolean leaseHeld();

  /**
   * Why the session ended, once it has: the server no longer knew it (a lease that ran out), it
   * restarted and refused the session's reclaim ({@code NO_GRACE}: the grace period was over;
   * {@code RECLAIM_BAD}: it had no record of this client), no reconnect succeeded within the timeout,
   * or {@link #close()}. Every request then fails with this.
   * Empty while the session is open.
   */
  public abstract Optional<DafsException> failure();

  /**
   * The transport the session runs over: {@code tcp}, or {@code shm} once it moved to shared memory
   * (see {@link ClientOptions#transport()}).
   */
  public abstract String transport();

  /**
   * Registers a direct buffer for direct reads and writes; do it once per buffer, not per I/O. The
   * caller owns the returned region and closes it when done; the buffer must outlive the region.
   */
  public abstract Region register(ByteBuffer directBuffer);

  /**
   * Allocates {@code length} bytes of memory for direct reads and writes, placed where the session's
   * transport can reach it (a shared mapping on shm), and registers it. Works on every transport;
   * {@link #register} does not on those that can only expose memory they placed. The caller owns the
   * region; closing it frees the memory.
   */
  public abstract Region allocate(int length);

  /**
   * Makes {@code listener} the receiver of delegation recalls, or with null removes it. While no
   * listener is set the session has nothing to cache, so it asks for no delegation on open, and
   * returns at once any delegation that is recalled.
   */
  public abstract void setRecallListener(RecallListener listener);

  abstract <T> T await(CompletableFuture<T> future) throws DafsException;

  // --- namespace -------------------------------------------------------------------------------

  /** Resolves a relative path (one or more components) under {@code dir}. */
  public abstract CompletableFuture<Node> lookupAsync(FileHandle dir, String path);

  public final Node lookup(FileHandle dir, String path) throws DafsException {
    return await(lookupAsync(dir, path));
  }

  public abstract CompletableFuture<FileAttributes> getattrAsync(FileHandle handle);

  public final FileAttributes getattr(FileHandle handle) throws DafsException {
    return await(getattrAsync(handle));
  }

  /** Changes size, mode or times; {@code through} is the open the change is made by, or null. */
  public abstract CompletableFuture<FileAttributes> setattrAsync(FileHandle handle, OpenFile through, SetAttributes attributes);

  public final FileAttributes setattr(FileHandle handle, OpenFile through, SetAttributes attributes) throws DafsException {
    return await(setattrAsync(handle, through, attributes));
  }

  /** Creates a regular file without opening it; {@code exclusive} fails with EXIST if it is there. */
  public abstract CompletableFuture<Node> createAsync(FileHandle dir, String name, int mode, boolean exclusive);

  public final Node create(FileHandle dir, String name, int mode, boolean exclusive) throws DafsException {
    return await(createAsync(dir, name, mode, exclusive));
  }

  public abstract CompletableFuture<Node> mkdirAsync(FileHandle dir, String name, int mode);

  public final Node mkdir(FileHandle dir, String name, int mode) throws DafsException {
    return await(mkdirAsync(dir, name, mode));
  }

  /** Removes a name that is not a directory. Opens of the file stay usable, as after unlink(2). */
  public abstract CompletableFuture<Void> removeAsync(FileHandle dir, String name);

  public final void remove(FileHandle dir, String name) throws DafsException {
    await(removeAsync(dir, name));
  }

  public abstract CompletableFuture<Void> rmdirAsync(FileHandle dir, String name);

  public final void rmdir(FileHandle dir, String name) throws DafsException {
    await(rmdirAsync(dir, name));
  }

  /** Renames atomically, replacing a target as rename(2) does; handles stay valid. */
  public abstract CompletableFuture<Void> renameAsync(FileHandle fromDir, String fromName, FileHandle toDir, String toName);

  public final void rename(FileHandle fromDir, String fromName, FileHandle toDir, String toName) throws DafsException {
    await(renameAsync(fromDir, fromName, toDir, toName));
  }

  /** One page of a directory, resuming after {@code cookie} (0 for the first page). */
  public abstract CompletableFuture<DirectoryPage> readdirAsync(FileHandle dir, long cookie, int maxEntries);

  public final DirectoryPage readdir(FileHandle dir, long cookie, int maxEntries) throws DafsException {
    return await(readdirAsync(dir, cookie, maxEntries));
  }

  public abstract CompletableFuture<FsStats> statfsAsync(FileHandle handle);

  public final FsStats statfs(FileHandle handle) throws DafsException {
    return await(statfsAsync(handle));
  }

  // --- opens and data --------------------------------------------------------------------------

  /**
   * Opens a file. If a recall listener is set and the server's policy allows, the reply grants a
   * delegation ({@link OpenFile#delegation()}). Waits while another client's conflicting delegation
   * is recalled, at most for the lease.
   */
  public abstract CompletableFuture<OpenFile> openAsync(FileHandle dir, String name, OpenMode mode);

  public final OpenFile open(FileHandle dir, String name, OpenMode mode) throws DafsException {
    return await(openAsync(dir, name, mode));
  }

  /** Closes the open; the server releases its share reservation and, with the last open, the locks. */
  public abstract CompletableFuture<Void> closeAsync(OpenFile file);

  public final void close(OpenFile file) throws DafsException {
    await(closeAsync(file));
  }

  /**
   * Reads inline into {@code dst} from {@code offset}, as many requests as the size needs. Completes
   * with the number of bytes read, which is short only at end of file (0 at or past it), and then
   * advances {@code dst}'s position by that much.
   */
  public abstract CompletableFuture<Integer> readAsync(OpenFile file, long offset, ByteBuffer dst);

  public final int read(OpenFile file, long offset, ByteBuffer dst) throws DafsException {
    return await(readAsync(file, offset, dst));
  }

  /** Writes {@code src} inline at {@code offset}; completes with the count and advances {@code src}. */
  public abstract CompletableFuture<Integer> writeAsync(OpenFile file, long offset, ByteBuffer src);

  public final int write(OpenFile file, long offset, ByteBuffer src) throws DafsException {
    return await(writeAsync(file, offset, src));
  }

  /**
   * Direct read: the server places {@code length} bytes of the file at {@code offset} straight into
   * {@code region} at {@code regionOffset} by a one-sided write, then replies with the count (short
   * only at end of file).
   *
   * @throws IllegalArgumentException (in the future) if the region is not this session's or the
   *     range lies outside it
   */
  public abstract CompletableFuture<Integer> readDirectAsync(OpenFile file, long offset, Region region, int regionOffset, int length);

  public final int readDirect(OpenFile file, long offset, Region region, int regionOffset, int length) throws DafsException {
    return await(readDirectAsync(file, offset, region, regionOffset, length));
  }

  /**
   * Scatter read: the server places the file's bytes from {@code offset} into the segments, one after
   * the other, by one-sided writes, as one request for up to {@link
   * org.cachedafs.protocol.Limits#MAX_SEGMENTS} segments and {@link
   * org.cachedafs.protocol.Limits#MAX_DIRECT} bytes (a longer list takes several, sent at once).
   * Completes with the bytes placed, short only at end of file: the segments past that point are
   * left as they were, and the one it falls in holds the file's bytes up to it.
   *
   * @throws IllegalArgumentException (in the future) if a segment's region is not this session's or
   *     its range lies outside the region
   */
  public abstract CompletableFuture<Integer> readDirectVAsync(OpenFile file, long offset, List<Segment> segments);

  public final int readDirectV(OpenFile file, long offset, List<Segment> segments) throws DafsException {
    return await(readDirectVAsync(file, offset, segments));
  }

  /** Direct write: the server pulls the bytes out of {@code region} by a one-sided read. */
  public abstract CompletableFuture<Integer> writeDirectAsync(OpenFile file, long offset, Region region, int regionOffset, int length);

  public final int writeDirect(OpenFile file, long offset, Region region, int regionOffset, int length) throws DafsException {
    return await(writeDirectAsync(file, offset, region, regionOffset, length));
  }

  /** Makes the file's data ({@code dataOnly}) or data and metadata durable on the server's disk. */
  public abstract CompletableFuture<Void> fsyncAsync(FileHandle handle, boolean dataOnly);

  public final void fsync(FileHandle handle, boolean dataOnly) throws DafsException {
    await(fsyncAsync(handle, dataOnly));
  }

  // --- byte-range locks ------------------------------------------------------------------------

  /** Takes a byte-range lock through an open; fails at once with DENIED if another session holds a conflicting one. */
  public abstract CompletableFuture<Void> lockAsync(OpenFile file, LockRange range);

  public final void lock(OpenFile file, LockRange range) throws DafsException {
    await(lockAsync(file, range));
  }

  /** The first lock of another session that conflicts with {@code range}, if any. */
  public abstract CompletableFuture<Optional<LockRange>> testLockAsync(FileHandle handle, LockRange range);

  public final Optional<LockRange> testLock(FileHandle handle, LockRange range) throws DafsException {
    return await(testLockAsync(handle, range));
  }

  public abstract CompletableFuture<Void> unlockAsync(OpenFile file, LockRange range);

  public final void unlock(OpenFile file, LockRange range) throws DafsException {
    await(unlockAsync(file, range));
  }

  // --- delegations and lease -------------------------------------------------------------------

  /**
   * Hands a delegation back to the server. Fails with {@code DELEG_REVOKED} if the server revoked it
   * first (anything not flushed under it is lost), with {@code BAD_STATEID} if it is unknown.
   */
  public abstract CompletableFuture<Void> returnDelegationAsync(long delegationId, FileHandle handle);

  public final void returnDelegation(long delegationId, FileHandle handle) throws DafsException {
    await(returnDelegationAsync(delegationId, handle));
  }

  /** Renews the lease now; the session also does this by itself. */
  public abstract CompletableFuture<Void> renewAsync();

  public final void renew() throws DafsException {
    await(renewAsync());
  }

  /** Destroys the session on the server and closes the connection. Idempotent. */
  @Override
  public abstract void close();
}
