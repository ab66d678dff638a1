package org.cachedafs.delegation;

/** What became of a DELEGRETURN. */
public enum ReturnResult {
  /** The delegation was held and is now returned. */
  RETURNED,
  /** The delegation was revoked before the return arrived: anything the holder had not flushed is lost. */
  REVOKED,
  /** No such delegation for this holder. */
  UNKNOWN
}
