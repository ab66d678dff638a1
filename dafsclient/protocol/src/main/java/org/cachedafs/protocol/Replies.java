package org.cachedafs.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** The reply bodies. A reply whose status is not OK carries an {@link Error} body instead. */
public final class Replies {
  private Replies() {}

  /** Marker for reply bodies. */
  public interface Reply extends Body {}

  public record Empty() implements Reply {
    public static final Empty INSTANCE = new Empty();

    public void encode(WireWriter w) {}

    static Empty decode(WireReader r) {
      return INSTANCE;
    }
  }

  /** The body of every reply whose status is not OK: a human-readable reason. */
  public record Error(String message) implements Reply {
    public void encode(WireWriter w) {
      String m = message == null ? "" : message;
      if (m.length() > Limits.MAX_MESSAGE / 4) {
        m = m.substring(0, Limits.MAX_MESSAGE / 4);
      }
      w.putString(m);
    }

    static Error decode(WireReader r) throws MalformedFrameException {
      return new Error(r.getString("error message", Limits.MAX_MESSAGE));
    }
  }

  /**
   * AUTH_INIT: the connection's challenge, and the server's boot verifier: random and non-zero, the
   * same for every connection of one server run and new at each start, so that a reconnecting client
   * knows whether the server restarted (and its session, with all it held, is gone) before it binds.
   */
  public record Challenge(byte[] serverNonce, long boot) implements Reply {
    public void encode(WireWriter w) {
      w.putBytes(serverNonce).putLong(boot);
    }

    static Challenge decode(WireReader r) throws MalformedFrameException {
      byte[] nonce = r.getBytes("server nonce", Limits.NONCE_BYTES);
      long boot = r.getLong();
      if (boot == 0) {
        throw new MalformedFrameException("boot verifier 0");
      }
      return new Challenge(nonce, boot);
    }
  }

  /**
   * SESSION_CREATE and SESSION_BIND: the session, what was granted, and the server's own proof. The
   * server's key share is that of SESSION_CREATE; a bind, which makes no new key, carries zeros.
   */
  public record SessionGranted(long sessionId, int credits, int leaseMillis, byte[] serverShare, byte[] serverProof, FileHandle root) implements Reply {
    public void encode(WireWriter w) {
      w.putLong(sessionId).putInt(credits).putInt(leaseMillis).putBytes(serverShare).putBytes(serverProof).putHandle(root);
    }

    static SessionGranted decode(WireReader r) throws MalformedFrameException {
      return new SessionGranted(
          r.getLong(),
          r.getInt("credits", 1, Limits.MAX_CREDITS),
          r.getInt("lease", 1, Integer.MAX_VALUE),
          r.getBytes("server key share", Limits.KEY_SHARE_BYTES),
          r.getBytes("server proof", Limits.NONCE_BYTES),
          r.getHandle());
    }
  }

  public record HandleAttrs(FileHandle handle, FileAttributes attributes) implements Reply {
    public void encode(WireWriter w) {
      w.putHandle(handle);
      attributes.encode(w);
    }

    static HandleAttrs decode(WireReader r) throws MalformedFrameException {
      return new HandleAttrs(r.getHandle(), FileAttributes.decode(r));
    }
  }

  public record Attrs(FileAttributes attributes) implements Reply {
    public void encode(WireWriter w) {
      attributes.encode(w);
    }

    static Attrs decode(WireReader r) throws MalformedFrameException {
      return new Attrs(FileAttributes.decode(r));
    }
  }

  /**
   * OPEN: the open's state id, the file, and the delegation granted with it ({@code delegation} is
   * one of the {@code DELEGATION_*} values; {@code delegationId} is 0 when none was granted).
   */
  public record Opened(long stateId, FileHandle handle, FileAttributes attributes, int delegation, long delegationId) implements Reply {
    public static final int DELEGATION_NONE = 0;
    public static final int DELEGATION_READ = 1;
    public static final int DELEGATION_WRITE = 2;

    public void encode(WireWriter w) {
      w.putLong(stateId).putHandle(handle);
      attributes.encode(w);
      w.putByte(delegation).putLong(delegationId);
    }

    static Opened decode(WireReader r) throws MalformedFrameException {
      long stateId = r.getLong();
      FileHandle h = r.getHandle();
      FileAttributes a = FileAttributes.decode(r);
      int d = r.getByte();
      if (d > DELEGATION_WRITE) {
        throw new MalformedFrameException("delegation type " + d);
      }
      return new Opened(stateId, h, a, d, r.getLong());
    }
  }

  /**
   * An inline READ's data, a view of the received frame, and the references to the server's
   * exported cache it was asked for ({@link References#NONE} otherwise).
   */
  public record ReadData(boolean eof, ByteBuffer data, References references) implements Reply {
    public ReadData(boolean eof, ByteBuffer data) {
      this(eof, data, References.NONE);
    }

    public void encode(WireWriter w) {
      w.putBoolean(eof).putData(data);
      references.encode(w);
    }

    static ReadData decode(WireReader r) throws MalformedFrameException {
      return new ReadData(r.getBoolean(), r.getData("data", Limits.MAX_INLINE), References.decode(r));
    }
  }

  /**
   * WRITE, READ_DIRECT and WRITE_DIRECT: how many bytes moved, for reads whether EOF was reached, and
   * for a READ_DIRECT that asked for them the references to the server's exported cache.
   */
  public record Count(int count, boolean eof, References references) implements Reply {
    public Count(int count, boolean eof) {
      this(count, eof, References.NONE);
    }

    public void encode(WireWriter w) {
      w.putInt(count).putBoolean(eof);
      references.encode(w);
    }

    static Count decode(WireReader r) throws MalformedFrameException {
      return new Count(r.getInt("count", 0, Limits.MAX_DIRECT), r.getBoolean(), References.decode(r));
    }
  }

  /**
   * One block of a file in the server's exported cache (ODAFS): the slab it lies in as the
   * session's transport names it, the slot's offset there, the file's id (the server run's boot
   * prefix and a counter), the block number and the slot's generation when the reference was made.
   * A client reads the slot ({@link SlotImage}) and uses it only if it still says exactly this.
   */
  public record Reference(RegionDescriptor slab, long slotOffset, long boot, long file, long block, long generation) {
    void encode(WireWriter w) {
      slab.encode(w);
      w.putLong(slotOffset).putLong(boot).putLong(file).putLong(block).putLong(generation);
    }

    static Reference decode(WireReader r) throws MalformedFrameException {
      RegionDescriptor slab = RegionDescriptor.decode(r);
      long at = r.getOffset("slot offset");
      long boot = r.getLong();
      long file = r.getLong();
      long block = r.getOffset("block");
      long generation = r.getOffset("generation");
      if ((generation & 1) != 0) {
        throw new MalformedFrameException("a reference's generation is odd: " + generation);
      }
      return new Reference(slab, at, boot, file, block, generation);
    }
  }

  /**
   * References to blocks of one file in the server's exported cache, and the exported block size
   * (0 when there are none). The body of REFERENCES, and the tail of READ and READ_DIRECT replies.
   */
  public record References(int blockSize, List<Reference> references) implements Reply {
    public static final References NONE = new References(0, List.of());

    public References {
      references = List.copyOf(references);
    }

    public void encode(WireWriter w) {
      w.putInt(blockSize).putInt(references.size());
      for (Reference ref : references) {
        ref.encode(w);
      }
    }

    static References decode(WireReader r) throws MalformedFrameException {
      int blockSize = r.getInt();
      int n = r.getCount("references", Limits.MAX_REFERENCES);
      if (n == 0 ? blockSize != 0 : !SlotImage.validBlockSize(blockSize)) {
        throw new MalformedFrameException("exported block size " + blockSize + " with " + n + " references");
      }
      if (n == 0) {
        return NONE;
      }
      List<Reference> list = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        list.add(Reference.decode(r));
      }
      return new References(blockSize, list);
    }
  }

  public record DirPage(List<DirEntry> entries, long nextCookie, boolean eof) implements Reply {
    public DirPage {
      entries = List.copyOf(entries);
    }

    public void encode(WireWriter w) {
      w.putInt(entries.size());
      for (DirEntry e : entries) {
        e.encode(w);
      }
      w.putLong(nextCookie).putBoolean(eof);
    }

    static DirPage decode(WireReader r) throws MalformedFrameException {
      int n = r.getCount("entries", Limits.MAX_READDIR_ENTRIES);
      List<DirEntry> list = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        list.add(DirEntry.decode(r));
      }
      return new DirPage(list, r.getLong(), r.getBoolean());
    }
  }

  public record StatFs(FsStats stats) implements Reply {
    public void encode(WireWriter w) {
      stats.encode(w);
    }

    static StatFs decode(WireReader r) throws MalformedFrameException {
      return new StatFs(FsStats.decode(r));
    }
  }

  /**
   * SESSION_RENEW: the session's delegations the server has revoked (not returned within the lease),
   * so a holder whose recall never reached it learns within a renewal period that its cache is void.
   */
  public record Renewed(List<Long> revokedDelegations) implements Reply {
    public Renewed {
      revokedDelegations = List.copyOf(revokedDelegations);
    }

    public void encode(WireWriter w) {
      w.putInt(revokedDelegations.size());
      for (long id : revokedDelegations) {
        w.putLong(id);
      }
    }

    static Renewed decode(WireReader r) throws MalformedFrameException {
      int n = r.getCount("revoked delegations", Limits.MAX_REVOKED_REPORTED);
      List<Long> ids = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        ids.add(r.getLong());
      }
      return new Renewed(ids);
    }
  }

  /** LOCKT: the first conflicting lock held by another owner, or null. */
  public record LockTest(LockRange conflict) implements Reply {
    public void encode(WireWriter w) {
      w.putBoolean(conflict != null);
      if (conflict != null) {
        conflict.encode(w);
      }
    }

    static LockTest decode(WireReader r) throws MalformedFrameException {
      return new LockTest(r.getBoolean() ? LockRange.decode(r) : null);
    }
  }

  /**
   * TRANSPORT_OFFERS: the other transports this server listens on for this session, each with the
   * one-time credential that admits this session's connection to it. Only a peer on the server's own
   * host is offered anything (an shm socket path means nothing elsewhere).
   */
  public record Offers(List<Offer> offers) implements Reply {
    public Offers {
      offers = List.copyOf(offers);
    }

    public void encode(WireWriter w) {
      w.putInt(offers.size());
      for (Offer o : offers) {
        w.putString(o.scheme()).putString(o.address()).putBytes(o.credential());
      }
    }

    static Offers decode(WireReader r) throws MalformedFrameException {
      int n = r.getCount("offers", Limits.MAX_OFFERS);
      List<Offer> offers = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        offers.add(new Offer(r.getString("scheme", Limits.MAX_OFFER_SCHEME), r.getString("address", Limits.MAX_OFFER_ADDRESS),
            r.getBytes("credential", Limits.NONCE_BYTES)));
      }
      return new Offers(offers);
    }
  }

  /** One transport a client may move its session to: its scheme, its address, and the credential to present there. */
  public record Offer(String scheme, String address, byte[] credential) {}
}
