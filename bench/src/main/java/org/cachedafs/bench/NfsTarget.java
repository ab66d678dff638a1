package org.cachedafs.bench;

import com.emc.ecs.nfsclient.nfs.NfsCreateMode;
import com.emc.ecs.nfsclient.nfs.NfsFsInfo;
import com.emc.ecs.nfsclient.nfs.NfsGetAttributes;
import com.emc.ecs.nfsclient.nfs.NfsResponseBase;
import com.emc.ecs.nfsclient.nfs.NfsSetAttributes;
import com.emc.ecs.nfsclient.nfs.NfsType;
import com.emc.ecs.nfsclient.nfs.NfsWriteRequest;
import com.emc.ecs.nfsclient.nfs.nfs3.Nfs3;
import com.emc.ecs.nfsclient.nfs.nfs3.Nfs3CommitResponse;
import com.emc.ecs.nfsclient.nfs.nfs3.Nfs3CreateResponse;
import com.emc.ecs.nfsclient.nfs.nfs3.Nfs3FsInfoResponse;
import com.emc.ecs.nfsclient.nfs.nfs3.Nfs3LookupResponse;
import com.emc.ecs.nfsclient.nfs.nfs3.Nfs3ReadResponse;
import com.emc.ecs.nfsclient.nfs.nfs3.Nfs3WriteResponse;
import com.emc.ecs.nfsclient.network.NetMgr;
import com.emc.ecs.nfsclient.rpc.CredentialUnix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The NFS peer: the same files served by NFS-Ganesha over NFSv3/TCP and reached with the pure-Java
 * client {@code com.emc.ecs:nfs-client}, so the comparison pays a network file system's round trip
 * per call without a kernel mount (the benchmark machine's kernel has no NFS client).
 *
 * <p>Every {@link Handle} call maps onto the NFSv3 procedures themselves: the file handle is looked
 * up once at {@link #open}, and READ, WRITE and COMMIT go out with explicit offsets. The library's
 * {@code NfsFile} streams are avoided because they look the path up again per call, which would
 * measure LOOKUP rather than I/O. The library's non-retrying ("naked") calls are used too, so an
 * NFS error reaches the caller at once, with its status, instead of after silent retries that
 * would sit inside a latency sample.
 *
 * <p>Writes are UNSTABLE and made durable by {@link Handle#sync} with a COMMIT, as a kernel client
 * does. The server's write verifier is checked at COMMIT: a changed verifier means the server
 * restarted and may have dropped unstable data, which is reported rather than silently lost.
 *
 * <p>A target is safe for concurrent use, and so is a handle: reads into direct buffers go through
 * a per-thread scratch array, and the verifier bookkeeping is synchronized.
 *
 * <p>The library runs on one process-wide Netty client, shared by every target and kept across
 * {@link #close}, so connecting again (per workload, say) reuses its TCP connections. Its connect
 * timer is a non-daemon thread, though: a JVM that has connected does not exit when {@code main}
 * returns. End it with {@code System.exit}, or call {@link #shutdownClient} once all targets are
 * closed.
 */
final class NfsTarget implements Target {
  /**
   * Largest READ or WRITE sent, whatever the server allows (Ganesha offers 64 MiB): 1 MiB is the
   * Linux client's own rsize/wsize ceiling, so a large transfer costs the round trips it would cost
   * through a kernel mount, and the library refuses larger single write payloads anyway.
   */
  private static final int MAX_TRANSFER = 1 << 20;

  private static final int CREATE_MODE = 0644;

  /** Set once the library's client is shut down, which cannot be undone (guarded by the class). */
  private static boolean shutDown;

  private final Nfs3 nfs;
  private final byte[] rootHandle;
  /** As advertised by FSINFO, and as used. */
  private final long rtmax;
  private final long wtmax;
  private final int maxRead;
  private final int maxWrite;
  private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[0]);
  private volatile boolean closed;

  private NfsTarget(Nfs3 nfs, NfsFsInfo info) {
    this.nfs = nfs;
    this.rootHandle = nfs.getRootFileHandle();
    this.rtmax = info.rtmax;
    this.wtmax = info.wtmax;
    this.maxRead = transferSize(info.rtmax);
    this.maxWrite = transferSize(info.wtmax);
  }

  /**
   * Mounts {@code exportPath} of {@code host} (MOUNT and NFS ports found through rpcbind) and reads
   * the server's transfer sizes.
   */
  static NfsTarget connect(String host, String exportPath) throws IOException {
    synchronized (NfsTarget.class) {
      if (shutDown) {
        throw new IOException("nfs-client was shut down (shutdownClient) and cannot restart in this JVM");
      }
    }
    // The JVM runs as root (ip netns exec needs it) and the export does not squash root, so root
    // is the identity a kernel mount by the same process would have used.
    Nfs3 nfs = new Nfs3(host, exportPath, new CredentialUnix(0, 0, null), 1);
    Nfs3FsInfoResponse response = nfs.getFsInfo(nfs.makeFsInfoRequest());
    check(response, "FSINFO", exportPath);
    return new NfsTarget(nfs, response.getFsInfo());
  }

  /**
   * Closes the library's connections and stops its threads, so the JVM can exit without
   * {@code System.exit}. Final: no target can connect in this JVM afterwards.
   */
  static synchronized void shutdownClient() {
    if (!shutDown) {
      shutDown = true;
      NetMgr.getInstance().shutdown();
    }
  }

  private static int transferSize(long max) {
    // rtmax/wtmax of 0 would be a broken server; do not let it turn into zero-byte RPCs.
    return (int) Math.max(4096, Math.min(max, MAX_TRANSFER));
  }

  /** Largest READ this target sends: the server's rtmax, at most 1 MiB. */
  int maxRead() {
    return maxRead;
  }

  /** Largest WRITE this target sends: the server's wtmax, at most 1 MiB. */
  int maxWrite() {
    return maxWrite;
  }

  /** The server's FSINFO transfer limits as advertised, for the report. */
  @Override
  public String toString() {
    return "nfs " + nfs.getServer() + ":" + nfs.getExportedPath() + " (FSINFO rtmax " + rtmax + ", wtmax " + wtmax + ")";
  }

  @Override
  public String name() {
    return "nfs";
  }

  @Override
  public Handle open(String file, boolean write) throws IOException {
    if (closed) {
      throw new IOException("nfs target closed");
    }
    String[] parts = file.split("/");
    byte[] dir = rootHandle;
    String walked = "";
    int last = parts.length - 1;
    while (last >= 0 && parts[last].isEmpty()) {
      last--;
    }
    if (last < 0) {
      throw new IOException("open: empty file name");
    }
    for (int i = 0; i < last; i++) {
      if (parts[i].isEmpty()) {
        continue;
      }
      walked += "/" + parts[i];
      dir = lookup(dir, parts[i], walked).getFileHandle();
    }
    String path = walked + "/" + parts[last];
    Nfs3LookupResponse found = nfs.getLookup(nfs.makeLookupRequest(dir, parts[last]));
    byte[] handle;
    if (found.getState() == Status.NOENT && write) {
      handle = create(dir, parts[last], path);
    } else {
      check(found, "LOOKUP", path);
      NfsGetAttributes attributes = found.getAttributes();
      if (attributes != null && attributes.isLoaded() && attributes.getType() != NfsType.NFS_REG) {
        throw new IOException("open " + path + ": not a regular file (" + attributes.getType() + ")");
      }
      handle = found.getFileHandle();
    }
    return new NfsHandle(handle, path);
  }

  private Nfs3LookupResponse lookup(byte[] dir, String name, String path) throws IOException {
    Nfs3LookupResponse response = nfs.getLookup(nfs.makeLookupRequest(dir, name));
    check(response, "LOOKUP", path);
    return response;
  }

  private byte[] create(byte[] dir, String name, String path) throws IOException {
    NfsSetAttributes attributes = new NfsSetAttributes();
    attributes.setMode((long) CREATE_MODE);
    // UNCHECKED, like open(O_CREAT) without O_EXCL: a concurrent creator is not an error.
    Nfs3CreateResponse response = nfs.sendCreate(nfs.makeCreateRequest(NfsCreateMode.UNCHECKED, dir, name, attributes, null));
    check(response, "CREATE", path);
    byte[] handle = response.getFileHandle();
    // The handle in a CREATE reply is optional in NFSv3; a server that leaves it out still answers LOOKUP.
    return handle != null ? handle : lookup(dir, name, path).getFileHandle();
  }

  /** Nothing to release: NFSv3 keeps no open state, and the library's client is shared (see above). */
  @Override
  public void close() {
    closed = true;
  }

  private static void check(NfsResponseBase response, String op, String path) throws IOException {
    int status = response.getState();
    if (status != Status.OK) {
      throw new IOException(op + " " + path + ": " + Status.name(status) + " (NFS status " + status + ")");
    }
  }

  /** One file handle, with offsets carried by each call. */
  private final class NfsHandle implements Handle {
    private final byte[] handle;
    private final String path;
    /** Verifier of the unstable writes not yet committed; meaningful while {@code unstable > committed}. */
    private long verifier;
    /** Counts completed unstable writes, and how many of them a COMMIT has covered. */
    private long unstable;
    private long committed;
    private volatile boolean open = true;

    NfsHandle(byte[] handle, String path) {
      this.handle = handle;
      this.path = path;
    }

    @Override
    public int pread(ByteBuffer dst, long position) throws IOException {
      ensureOpen();
      int total = 0;
      boolean eof = false;
      // Loop so a caller gets what a local pread gives: the buffer filled unless the file ends first.
      while (dst.hasRemaining() && !eof) {
        int want = Math.min(dst.remaining(), maxRead);
        boolean heap = dst.hasArray();
        byte[] array = heap ? dst.array() : scratch(want);
        int offset = heap ? dst.arrayOffset() + dst.position() : 0;
        // The reply is decoded straight into the array: no copy at all for heap buffers.
        Nfs3ReadResponse response = nfs.getRead(nfs.makeReadRequest(handle, position + total, want), array, offset);
        check(response, "READ", path);
        int n = response.getBytesRead();
        if (heap) {
          dst.position(dst.position() + n);
        } else {
          dst.put(array, 0, n);
        }
        total += n;
        // A zero-byte reply without EOF would otherwise spin forever; treat it as the end.
        eof = response.isEof() || n == 0;
      }
      return total == 0 && eof ? -1 : total;
    }

    @Override
    public int pwrite(ByteBuffer src, long position) throws IOException {
      ensureOpen();
      int total = 0;
      while (src.hasRemaining()) {
        int n = Math.min(src.remaining(), maxWrite);
        // The library sends payload buffers as they are (heap or direct), so a slice needs no copy.
        // The list must be mutable: the library appends the XDR padding buffer to it.
        List<ByteBuffer> payload = new ArrayList<>(2);
        payload.add(src.slice(src.position(), n));
        Nfs3WriteResponse response = nfs.sendWrite(
            nfs.makeWriteRequest(handle, position + total, payload, NfsWriteRequest.UNSTABLE));
        check(response, "WRITE", path);
        int count = response.getCount();
        if (count <= 0) {
          throw new IOException("WRITE " + path + ": server accepted no bytes at " + (position + total));
        }
        wrote(response.getVerf(), response.getCommitted() != NfsWriteRequest.UNSTABLE);
        src.position(src.position() + count);
        total += count;
      }
      return total;
    }

    @Override
    public void sync() throws IOException {
      ensureOpen();
      commit();
    }

    /** Commits, like a kernel client's flush at close, so data written here does not stay unstable. */
    @Override
    public void close() throws IOException {
      if (open) {
        try {
          commit();
        } finally {
          open = false;
        }
      }
    }

    private void commit() throws IOException {
      long covered;
      long expected;
      synchronized (this) {
        if (unstable == committed) {
          return; // like fsync with no dirty pages: nothing to make stable, no round trip
        }
        covered = unstable;
        expected = verifier;
      }
      Nfs3CommitResponse response = nfs.sendCommit(nfs.makeCommitRequest(handle, 0, 0));
      check(response, "COMMIT", path);
      if (response.getVerf() != expected) {
        throw new IOException("COMMIT " + path + ": write verifier changed (server restarted), unstable writes may be lost");
      }
      synchronized (this) {
        committed = Math.max(committed, covered);
      }
    }

    private synchronized void wrote(long writeVerifier, boolean stable) throws IOException {
      if (stable) {
        return; // the server chose to write through: nothing for a COMMIT to do
      }
      if (unstable != committed && writeVerifier != verifier) {
        throw new IOException("WRITE " + path + ": write verifier changed (server restarted), earlier unstable writes may be lost");
      }
      verifier = writeVerifier;
      unstable++;
    }

    private byte[] scratch(int size) {
      byte[] buffer = scratch.get();
      if (buffer.length < size) {
        buffer = new byte[Math.max(size, maxRead)];
        scratch.set(buffer);
      }
      return buffer;
    }

    private void ensureOpen() throws IOException {
      if (!open || closed) {
        throw new IOException(path + ": closed");
      }
    }
  }

  /** NFSv3 status codes (RFC 1813, nfsstat3), named: the library's own toString gives only the number. */
  private static final class Status {
    static final int OK = 0;
    static final int NOENT = 2;

    private Status() {}

    static String name(int status) {
      return switch (status) {
        case 1 -> "NFS3ERR_PERM";
        case 2 -> "NFS3ERR_NOENT";
        case 5 -> "NFS3ERR_IO";
        case 6 -> "NFS3ERR_NXIO";
        case 13 -> "NFS3ERR_ACCES";
        case 17 -> "NFS3ERR_EXIST";
        case 18 -> "NFS3ERR_XDEV";
        case 19 -> "NFS3ERR_NODEV";
        case 20 -> "NFS3ERR_NOTDIR";
        case 21 -> "NFS3ERR_ISDIR";
        case 22 -> "NFS3ERR_INVAL";
        case 27 -> "NFS3ERR_FBIG";
        case 28 -> "NFS3ERR_NOSPC";
        case 30 -> "NFS3ERR_ROFS";
        case 31 -> "NFS3ERR_MLINK";
        case 63 -> "NFS3ERR_NAMETOOLONG";
        case 66 -> "NFS3ERR_NOTEMPTY";
        case 69 -> "NFS3ERR_DQUOT";
        case 70 -> "NFS3ERR_STALE";
        case 71 -> "NFS3ERR_REMOTE";
        case 10001 -> "NFS3ERR_BADHANDLE";
        case 10002 -> "NFS3ERR_NOT_SYNC";
        case 10003 -> "NFS3ERR_BAD_COOKIE";
        case 10004 -> "NFS3ERR_NOTSUPP";
        case 10005 -> "NFS3ERR_TOOSMALL";
        case 10006 -> "NFS3ERR_SERVERFAULT";
        case 10007 -> "NFS3ERR_BADTYPE";
        case 10008 -> "NFS3ERR_JUKEBOX";
        default -> "NFS3ERR_" + status;
      };
    }
  }
}
