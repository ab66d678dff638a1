package org.cachedafs.protocol;

import java.util.HashMap;
import java.util.Map;

/**
 * The operations, with their wire codes and body shapes.
 *
 * <p>A <em>sequenced</em> operation travels on a credit slot with a sequence number, so the server's
 * per-slot reply cache can answer a retransmission. The reply of an <em>idempotent</em> one is not
 * cached: a retransmission simply runs it again. The others (creates, removes, renames, writes, opens,
 * locks) are answered from the cache, which is what makes them exactly-once across a reconnect.
 * DELEGRETURN is unsequenced so that it never waits for a credit: a client whose credits are all held
 * by requests waiting on another client's recall must still be able to return its own delegations. A
 * retransmitted return that already took effect gets BAD_STATEID, which the client reads as returned.
 *
 * <p>The reply cache does not outlive the server: after a restart a client reclaims its state with
 * the reclaim operations ({@link #reclaims()}) and sends again what was unanswered, in a new session
 * (docs/protocol.md §6.5 says what that means for each operation).
 */
public enum Opcode {
  AUTH_INIT(1, false, true, Requests.AuthInit::decode, Replies.Challenge::decode),
  SESSION_CREATE(2, false, false, Requests.SessionCreate::decode, Replies.SessionGranted::decode),
  SESSION_BIND(3, false, false, Requests.SessionBind::decode, Replies.SessionGranted::decode),
  SESSION_DESTROY(4, false, true, Requests.NoArgs::decode, Replies.Empty::decode),
  SESSION_RENEW(5, false, true, Requests.NoArgs::decode, Replies.Renewed::decode),
  TRANSPORT_OFFERS(6, false, true, Requests.NoArgs::decode, Replies.Offers::decode),
  RECLAIM_COMPLETE(7, false, true, Requests.NoArgs::decode, Replies.Empty::decode),

  LOOKUP(10, true, true, Requests.Lookup::decode, Replies.HandleAttrs::decode),
  GETATTR(11, true, true, Requests.HandleArg::decode, Replies.Attrs::decode),
  SETATTR(12, true, false, Requests.SetAttr::decode, Replies.Attrs::decode),
  OPEN(13, true, false, Requests.Open::decode, Replies.Opened::decode),
  CLOSE(14, true, false, Requests.StateArg::decode, Replies.Empty::decode),
  READ(15, true, true, Requests.Read::decode, Replies.ReadData::decode),
  WRITE(16, true, false, Requests.Write::decode, Replies.Count::decode),
  READ_DIRECT(17, true, true, Requests.Direct::decode, Replies.Count::decode),
  WRITE_DIRECT(18, true, false, Requests.Direct::decode, Replies.Count::decode),
  CREATE(19, true, false, Requests.Entry::decode, Replies.HandleAttrs::decode),
  MKDIR(20, true, false, Requests.Entry::decode, Replies.HandleAttrs::decode),
  REMOVE(21, true, false, Requests.Entry::decode, Replies.Empty::decode),
  RMDIR(22, true, false, Requests.Entry::decode, Replies.Empty::decode),
  RENAME(23, true, false, Requests.Rename::decode, Replies.Empty::decode),
  READDIR(24, true, true, Requests.ReadDir::decode, Replies.DirPage::decode),
  FSYNC(25, true, true, Requests.HandleArg::decode, Replies.Empty::decode),
  STATFS(26, true, true, Requests.HandleArg::decode, Replies.StatFs::decode),
  LOCK(27, true, false, Requests.Lock::decode, Replies.Empty::decode),
  LOCKT(28, true, true, Requests.Lock::decode, Replies.LockTest::decode),
  LOCKU(29, true, false, Requests.Lock::decode, Replies.Empty::decode),
  DELEGRETURN(30, false, false, Requests.Delegation::decode, Replies.Empty::decode),
  READ_DIRECT_V(31, true, true, Requests.DirectV::decode, Replies.Count::decode),
  REFERENCES(32, true, true, Requests.ReferenceRange::decode, Replies.References::decode),
  OPEN_RECLAIM(33, true, false, Requests.Reclaim::decode, Replies.Opened::decode),
  LOCK_RECLAIM(34, true, false, Requests.Lock::decode, Replies.Empty::decode),

  CB_RECALL(40, false, true, Requests.Delegation::decode, Replies.Empty::decode),
  CB_PING(41, false, true, Requests.NoArgs::decode, Replies.Empty::decode);

  private static final Map<Integer, Opcode> BY_CODE = new HashMap<>();

  static {
    for (Opcode o : values()) {
      BY_CODE.put(o.code, o);
    }
  }

  private final int code;
  private final boolean sequenced;
  private final boolean idempotent;
  private final BodyDecoder requestDecoder;
  private final BodyDecoder replyDecoder;

  Opcode(int code, boolean sequenced, boolean idempotent, BodyDecoder requestDecoder, BodyDecoder replyDecoder) {
    this.code = code;
    this.sequenced = sequenced;
    this.idempotent = idempotent;
    this.requestDecoder = requestDecoder;
    this.replyDecoder = replyDecoder;
  }

  public int code() {
    return code;
  }

  /** Whether the operation travels on a credit slot. */
  public boolean sequenced() {
    return sequenced;
  }

  /** Whether running it twice is harmless, so its reply need not be cached. */
  public boolean idempotent() {
    return idempotent;
  }

  /** Whether the server sends it to the client. */
  public boolean isCallback() {
    return code >= 40;
  }

  /** Whether the server moves its data by one-sided transfers to or from memory the client named in it. */
  public boolean oneSided() {
    return this == READ_DIRECT || this == READ_DIRECT_V || this == WRITE_DIRECT;
  }

  /**
   * Whether it takes back state a client held before the server restarted (only in the server's grace
   * period, and only from a client the server knew then).
   */
  public boolean reclaims() {
    return this == OPEN_RECLAIM || this == LOCK_RECLAIM || this == RECLAIM_COMPLETE;
  }

  /** Whether a connection may send it before it belongs to a session. */
  public boolean beforeSession() {
    return this == AUTH_INIT || this == SESSION_CREATE || this == SESSION_BIND;
  }

  BodyDecoder requestDecoder() {
    return requestDecoder;
  }

  BodyDecoder replyDecoder() {
    return replyDecoder;
  }

  /** The opcode for a wire code, or null. */
  public static Opcode ofCode(int code) {
    return BY_CODE.get(code);
  }
}
