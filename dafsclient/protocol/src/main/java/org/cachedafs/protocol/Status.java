package org.cachedafs.protocol;

import java.util.HashMap;
import java.util.Map;

/**
 * The status carried by every reply. The numbers follow NFSv4 (RFC 8881, section 15) where an NFSv4
 * status means the same thing; the 2000x range is this protocol's own.
 */
public enum Status {
  OK(0, "ok"),
  PERM(1, "operation not permitted"),
  NOENT(2, "no such file or directory"),
  IO(5, "input/output error"),
  ACCES(13, "permission denied"),
  EXIST(17, "file exists"),
  XDEV(18, "cross-device link"),
  NOTDIR(20, "not a directory"),
  ISDIR(21, "is a directory"),
  INVAL(22, "invalid argument"),
  FBIG(27, "file too large"),
  NOSPC(28, "no space left on device"),
  ROFS(30, "read-only file system"),
  MLINK(31, "too many links"),
  NAMETOOLONG(63, "file name too long"),
  NOTEMPTY(66, "directory not empty"),
  DQUOT(69, "disk quota exceeded"),
  STALE(70, "stale file handle"),
  BADHANDLE(10001, "malformed file handle"),
  BAD_COOKIE(10003, "bad readdir cookie"),
  NOTSUPP(10004, "operation not supported"),
  SERVERFAULT(10006, "server fault"),
  DELAY(10008, "request in progress, retry"),
  DENIED(10010, "lock denied"),
  EXPIRED(10011, "lease expired"),
  LOCKED(10012, "range is locked"),
  SHARE_DENIED(10015, "share reservation conflict"),
  RESOURCE(10018, "server resource limit reached"),
  BAD_STATEID(10025, "unknown or foreign state id"),
  NO_GRACE(10033, "reclaim outside the server's grace period"),
  RECLAIM_BAD(10034, "reclaim by a client the server did not know before its restart"),
  RECLAIM_CONFLICT(10035, "reclaim conflicts with state the server holds"),
  BADXDR(10036, "malformed request"),
  BAD_RANGE(10042, "bad byte range"),
  BADSESSION(10052, "unknown session"),
  BADSLOT(10053, "slot outside the granted credits"),
  SEQ_MISORDERED(10063, "sequence number out of order"),
  DELEG_REVOKED(10087, "delegation revoked"),
  AUTH_FAILED(20001, "authentication failed"),
  BAD_REGION(20002, "bad registered region"),
  CONNECTION_LOST(20003, "connection lost"),
  TIMEDOUT(20004, "request timed out");

  private static final Map<Integer, Status> BY_CODE = new HashMap<>();

  static {
    for (Status s : values()) {
      BY_CODE.put(s.code, s);
    }
  }

  private final int code;
  private final String description;

  Status(int code, String description) {
    this.code = code;
    this.description = description;
  }

  public int code() {
    return code;
  }

  public String description() {
    return description;
  }

  /** The status for a wire code; an unknown code reads as {@link #SERVERFAULT}. */
  public static Status ofCode(int code) {
    Status s = BY_CODE.get(code);
    return s == null ? SERVERFAULT : s;
  }
}
