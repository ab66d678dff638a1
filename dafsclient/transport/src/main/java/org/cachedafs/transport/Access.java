package org.cachedafs.transport;

/** What a peer may do to a region with one-sided operations. */
public enum Access {
  /** Only this side's own transfers use it. */
  LOCAL,
  REMOTE_READ,
  REMOTE_WRITE,
  REMOTE_READ_WRITE;

  public boolean remoteRead() {
    return this == REMOTE_READ || this == REMOTE_READ_WRITE;
  }

  public boolean remoteWrite() {
    return this == REMOTE_WRITE || this == REMOTE_READ_WRITE;
  }
}
