package org.cachedafs.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The request bodies, one record for each operation a client sends (and the two callbacks a server
 * sends). Each record encodes itself; its {@code decode} checks every field against {@link Limits}.
 * Names are bounded here only by {@link Limits#MAX_PATH}, so that a name longer than
 * {@link Limits#MAX_NAME} gets the server's NAMETOOLONG rather than a bare BADXDR.
 */
public final class Requests {
  private Requests() {}

  /** Marker for request and callback bodies. */
  public interface Request extends Body {}

  public record AuthInit(String clientName) implements Request {
    public void encode(WireWriter w) {
      w.putString(clientName);
    }

    static AuthInit decode(WireReader r) throws MalformedFrameException {
      return new AuthInit(r.getString("client name", Limits.MAX_CLIENT_NAME));
    }
  }

  /**
   * Proves knowledge of the secret over the server's challenge: see {@link Handshake}. {@code clientId}
   * ({@link Limits#CLIENT_ID_BYTES} random bytes, chosen once per client) and the client name are the
   * client's identity, which the server records before it grants the client any state and which lets
   * the client reclaim that state after a restart.
   */
  public record SessionCreate(byte[] clientNonce, byte[] clientShare, byte[] proof, int credits, int leaseMillis, byte[] clientId) implements Request {
    public void encode(WireWriter w) {
      w.putBytes(clientNonce).putBytes(clientShare).putBytes(proof).putInt(credits).putInt(leaseMillis).putBytes(clientId);
    }

    static SessionCreate decode(WireReader r) throws MalformedFrameException {
      return new SessionCreate(
          r.getBytes("client nonce", Limits.NONCE_BYTES),
          r.getBytes("client key share", Limits.KEY_SHARE_BYTES),
          r.getBytes("proof", Limits.NONCE_BYTES),
          r.getInt("credits", 1, Limits.MAX_CREDITS),
          r.getInt("lease", 1, Integer.MAX_VALUE),
          r.getBytes("client id", Limits.CLIENT_ID_BYTES));
    }
  }

  /** Binds a new connection to an existing session after a reconnect, proving the session key (see {@link Handshake}). */
  public record SessionBind(long sessionId, byte[] clientNonce, byte[] proof) implements Request {
    public void encode(WireWriter w) {
      w.putLong(sessionId).putBytes(clientNonce).putBytes(proof);
    }

    static SessionBind decode(WireReader r) throws MalformedFrameException {
      return new SessionBind(r.getLong(), r.getBytes("client nonce", Limits.NONCE_BYTES), r.getBytes("proof", Limits.NONCE_BYTES));
    }
  }

  /** A request with no arguments: SESSION_DESTROY, SESSION_RENEW and the PING callback. */
  public record NoArgs() implements Request {
    public static final NoArgs INSTANCE = new NoArgs();

    public void encode(WireWriter w) {}

    static NoArgs decode(WireReader r) {
      return INSTANCE;
    }
  }

  /** Resolves a relative path of one or more components under {@code dir}. */
  public record Lookup(FileHandle dir, String path) implements Request {
    public void encode(WireWriter w) {
      w.putHandle(dir).putString(path);
    }

    static Lookup decode(WireReader r) throws MalformedFrameException {
      return new Lookup(r.getHandle(), r.getString("path", Limits.MAX_PATH));
    }
  }

  /** GETATTR, FSYNC (data only unless {@code flag}) and STATFS name just a handle. */
  public record HandleArg(FileHandle handle, boolean flag) implements Request {
    public void encode(WireWriter w) {
      w.putHandle(handle).putBoolean(flag);
    }

    static HandleArg decode(WireReader r) throws MalformedFrameException {
      return new HandleArg(r.getHandle(), r.getBoolean());
    }
  }

  /** {@code stateId} is the open the change is made through, or 0 for none (then no delegation is spared). */
  public record SetAttr(FileHandle handle, long stateId, SetAttributes attributes) implements Request {
    public void encode(WireWriter w) {
      w.putHandle(handle).putLong(stateId);
      attributes.encode(w);
    }

    static SetAttr decode(WireReader r) throws MalformedFrameException {
      return new SetAttr(r.getHandle(), r.getLong(), SetAttributes.decode(r));
    }
  }

  /**
   * Opens (and with {@link #CREATE} creates) {@code name} in {@code dir}, with an access and a deny
   * share mode as in NFSv4 share reservations.
   */
  public record Open(FileHandle dir, String name, int access, int deny, int flags, int mode) implements Request {
    public static final int ACCESS_READ = 1;
    public static final int ACCESS_WRITE = 2;
    public static final int DENY_NONE = 0;
    public static final int DENY_READ = 1;
    public static final int DENY_WRITE = 2;
    public static final int CREATE = 1;
    public static final int EXCLUSIVE = 2;
    public static final int TRUNCATE = 4;
    /** The client will not take a delegation on this open. */
    public static final int NO_DELEGATION = 8;
    static final int ALL_FLAGS = CREATE | EXCLUSIVE | TRUNCATE | NO_DELEGATION;

    public void encode(WireWriter w) {
      w.putHandle(dir).putString(name).putByte(access).putByte(deny).putInt(flags).putInt(mode);
    }

    static Open decode(WireReader r) throws MalformedFrameException {
      FileHandle dir = r.getHandle();
      String name = r.getString("name", Limits.MAX_PATH);
      int access = r.getByte();
      int deny = r.getByte();
      int flags = r.getInt();
      if (access < 1 || access > 3 || deny > 3 || (flags & ~ALL_FLAGS) != 0) {
        throw new MalformedFrameException("open modes access=" + access + " deny=" + deny + " flags=" + flags);
      }
      return new Open(dir, name, access, deny, flags, r.getInt());
    }
  }

  /**
   * OPEN_RECLAIM: takes back, after the server restarted, an open this client had ({@code stateId},
   * which the open keeps, so the client's open objects stay valid) of the file {@code handle}, with its
   * share modes, and the delegation it held on the file ({@code delegation}: one of {@code
   * Replies.Opened.DELEGATION_*}, with its id; NONE and 0 for none). A {@code stateId} of 0 reclaims
   * only the delegation, held without an open; its access and deny are then 0.
   */
  public record Reclaim(long stateId, FileHandle handle, int access, int deny, int delegation, long delegationId) implements Request {
    public void encode(WireWriter w) {
      w.putLong(stateId).putHandle(handle).putByte(access).putByte(deny).putByte(delegation).putLong(delegationId);
    }

    static Reclaim decode(WireReader r) throws MalformedFrameException {
      long stateId = r.getLong();
      FileHandle handle = r.getHandle();
      int access = r.getByte();
      int deny = r.getByte();
      int delegation = r.getByte();
      long delegationId = r.getLong();
      boolean open = stateId != 0;
      if (open ? access < 1 || access > 3 || deny > 3 : access != 0 || deny != 0) {
        throw new MalformedFrameException("reclaim modes access=" + access + " deny=" + deny + " for state id " + stateId);
      }
      if (delegation > 2 || (delegation == 0) != (delegationId == 0) || (!open && delegation == 0)) {
        throw new MalformedFrameException("reclaim of delegation type " + delegation + " id " + delegationId + (open ? "" : " without an open"));
      }
      return new Reclaim(stateId, handle, access, deny, delegation, delegationId);
    }
  }

  /** CLOSE and other operations that name only an open's state id. */
  public record StateArg(long stateId) implements Request {
    public void encode(WireWriter w) {
      w.putLong(stateId);
    }

    static StateArg decode(WireReader r) throws MalformedFrameException {
      return new StateArg(r.getLong());
    }
  }

  /** An inline READ; {@code flags} is 0 or {@link #REFERENCES}. */
  public record Read(long stateId, long offset, int length, int flags) implements Request {
    /** Asks for references to the blocks read that are in the server's exported cache (ODAFS). */
    public static final int REFERENCES = 1;

    public Read(long stateId, long offset, int length) {
      this(stateId, offset, length, 0);
    }

    public boolean wantsReferences() {
      return (flags & REFERENCES) != 0;
    }

    public void encode(WireWriter w) {
      w.putLong(stateId).putLong(offset).putInt(length).putInt(flags);
    }

    static Read decode(WireReader r) throws MalformedFrameException {
      return new Read(r.getLong(), r.getOffset("offset"), r.getInt("length", 0, Limits.MAX_INLINE), r.getInt("flags", 0, REFERENCES));
    }
  }

  /**
   * REFERENCES: references to up to {@code count} blocks of the open's file from block {@code first}
   * (of the server's exported block size), filling the exported cache with those not in it yet.
   */
  public record ReferenceRange(long stateId, long first, int count) implements Request {
    public void encode(WireWriter w) {
      w.putLong(stateId).putLong(first).putInt(count);
    }

    static ReferenceRange decode(WireReader r) throws MalformedFrameException {
      long stateId = r.getLong();
      long first = r.getOffset("first block");
      int count = r.getInt("block count", 1, Limits.MAX_REFERENCES);
      if (first > Long.MAX_VALUE - count) {
        throw new MalformedFrameException("block range runs past the largest block number");
      }
      return new ReferenceRange(stateId, first, count);
    }
  }

  /** An inline write; {@code data} is a view of the received frame. */
  public record Write(long stateId, long offset, ByteBuffer data) implements Request {
    public void encode(WireWriter w) {
      w.putLong(stateId).putLong(offset).putData(data);
    }

    static Write decode(WireReader r) throws MalformedFrameException {
      return new Write(r.getLong(), r.getOffset("offset"), r.getData("data", Limits.MAX_INLINE));
    }
  }

  /**
   * READ_DIRECT and WRITE_DIRECT: the server moves {@code length} bytes between the file at
   * {@code offset} and the client's registered region {@code region} at {@code regionOffset} by a
   * one-sided transfer, then replies.
   */
  public record Direct(long stateId, long offset, int length, RegionDescriptor region, long regionOffset, int flags) implements Request {
    public Direct(long stateId, long offset, int length, RegionDescriptor region, long regionOffset) {
      this(stateId, offset, length, region, regionOffset, 0);
    }

    /** Whether a READ_DIRECT asks for references ({@link Read#REFERENCES}); a WRITE_DIRECT never does. */
    public boolean wantsReferences() {
      return (flags & Read.REFERENCES) != 0;
    }

    public void encode(WireWriter w) {
      w.putLong(stateId).putLong(offset).putInt(length);
      region.encode(w);
      w.putLong(regionOffset).putInt(flags);
    }

    static Direct decode(WireReader r) throws MalformedFrameException {
      long stateId = r.getLong();
      long offset = r.getOffset("offset");
      int length = r.getInt("length", 0, Limits.MAX_DIRECT);
      RegionDescriptor region = RegionDescriptor.decode(r);
      return new Direct(stateId, offset, length, region, r.getOffset("region offset"), r.getInt("flags", 0, Read.REFERENCES));
    }
  }

  /**
   * READ_DIRECT_V, a scatter read: the file range {@code [offset, offset + length())} is placed into
   * the client's registered memory segment after segment, as one RDMA transfer fills a scatter list.
   * The segments may lie anywhere in any of the client's regions, so one request can fill many cache
   * blocks; the reply is a {@link Replies.Count}, short only at end of file.
   */
  public record DirectV(long stateId, long offset, List<Segment> segments) implements Request {
    public DirectV {
      segments = List.copyOf(segments);
    }

    /** The bytes the segments hold together. */
    public int length() {
      int total = 0;
      for (Segment s : segments) {
        total += s.length();
      }
      return total;
    }

    public void encode(WireWriter w) {
      w.putLong(stateId).putLong(offset).putInt(segments.size());
      for (Segment s : segments) {
        s.region().encode(w);
        w.putLong(s.regionOffset()).putInt(s.length());
      }
    }

    static DirectV decode(WireReader r) throws MalformedFrameException {
      long stateId = r.getLong();
      long offset = r.getOffset("offset");
      int n = r.getInt("segment count", 1, Limits.MAX_SEGMENTS);
      List<Segment> segments = new ArrayList<>(n);
      long total = 0;
      for (int i = 0; i < n; i++) {
        RegionDescriptor region = RegionDescriptor.decode(r);
        long regionOffset = r.getOffset("region offset");
        int length = r.getInt("segment length", 1, Limits.MAX_DIRECT);
        if (regionOffset > Long.MAX_VALUE - length) {
          throw new MalformedFrameException("segment " + i + " runs past the largest region offset");
        }
        total += length;
        if (total > Limits.MAX_DIRECT) {
          throw new MalformedFrameException("segments hold more than " + Limits.MAX_DIRECT + " bytes");
        }
        segments.add(new Segment(region, regionOffset, length));
      }
      if (offset > Long.MAX_VALUE - total) {
        throw new MalformedFrameException("range runs past the largest file offset");
      }
      return new DirectV(stateId, offset, segments);
    }
  }

  /** One piece of a scatter list: {@code length} bytes of the client's region {@code region} at {@code regionOffset}. */
  public record Segment(RegionDescriptor region, long regionOffset, int length) {}

  /** CREATE (a regular file, {@code flag} = exclusive), MKDIR, REMOVE and RMDIR name an entry of a directory. */
  public record Entry(FileHandle dir, String name, int mode, boolean flag) implements Request {
    public void encode(WireWriter w) {
      w.putHandle(dir).putString(name).putInt(mode).putBoolean(flag);
    }

    static Entry decode(WireReader r) throws MalformedFrameException {
      return new Entry(r.getHandle(), r.getString("name", Limits.MAX_PATH), r.getInt(), r.getBoolean());
    }
  }

  public record Rename(FileHandle fromDir, String fromName, FileHandle toDir, String toName) implements Request {
    public void encode(WireWriter w) {
      w.putHandle(fromDir).putString(fromName).putHandle(toDir).putString(toName);
    }

    static Rename decode(WireReader r) throws MalformedFrameException {
      return new Rename(r.getHandle(), r.getString("from name", Limits.MAX_PATH), r.getHandle(), r.getString("to name", Limits.MAX_PATH));
    }
  }

  /** Reads a page of a directory, resuming after {@code cookie} (0 starts at the beginning). */
  public record ReadDir(FileHandle dir, long cookie, int maxEntries) implements Request {
    public void encode(WireWriter w) {
      w.putHandle(dir).putLong(cookie).putInt(maxEntries);
    }

    static ReadDir decode(WireReader r) throws MalformedFrameException {
      return new ReadDir(r.getHandle(), r.getLong(), r.getInt("max entries", 1, Limits.MAX_READDIR_ENTRIES));
    }
  }

  /** LOCK and LOCKU act through an open; LOCKT tests a range of a handle. */
  public record Lock(long stateId, FileHandle handle, LockRange range) implements Request {
    public void encode(WireWriter w) {
      w.putLong(stateId).putHandle(handle);
      range.encode(w);
    }

    static Lock decode(WireReader r) throws MalformedFrameException {
      return new Lock(r.getLong(), r.getHandle(), LockRange.decode(r));
    }
  }

  /** DELEGRETURN, and the RECALL callback, name a delegation and its file. */
  public record Delegation(long delegationId, FileHandle handle) implements Request {
    public void encode(WireWriter w) {
      w.putLong(delegationId).putHandle(handle);
    }

    static Delegation decode(WireReader r) throws MalformedFrameException {
      return new Delegation(r.getLong(), r.getHandle());
    }
  }
}
