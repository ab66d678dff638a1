package org.cachedafs.client;

import org.cachedafs.protocol.Requests.Open;

/**
 * How a file is opened: access and deny share modes (as NFSv4 share reservations), creation flags,
 * and the permission bits for a file it creates.
 */
public record OpenMode(int access, int deny, int flags, int mode) {
  public static OpenMode read() {
    return new OpenMode(Open.ACCESS_READ, Open.DENY_NONE, 0, 0644);
  }

  public static OpenMode write() {
    return new OpenMode(Open.ACCESS_WRITE, Open.DENY_NONE, 0, 0644);
  }

  public static OpenMode readWrite() {
    return new OpenMode(Open.ACCESS_READ | Open.ACCESS_WRITE, Open.DENY_NONE, 0, 0644);
  }

  /** Creates the file if it is missing, with {@code permissions}. */
  public OpenMode create(int permissions) {
    return new OpenMode(access, deny, flags | Open.CREATE, permissions);
  }

  /** With {@link #create}: fails with EXIST if the file is there. */
  public OpenMode exclusive() {
    return new OpenMode(access, deny, flags | Open.CREATE | Open.EXCLUSIVE, mode);
  }

  public OpenMode truncate() {
    return new OpenMode(access, deny, flags | Open.TRUNCATE, mode);
  }

  /** Denies other opens this access (share reservation). */
  public OpenMode deny(int denyBits) {
    return new OpenMode(access, denyBits, flags, mode);
  }

  /** Tells the server not to grant a delegation on this open. */
  public OpenMode noDelegation() {
    return new OpenMode(access, deny, flags | Open.NO_DELEGATION, mode);
  }

  public boolean canRead() {
    return (access & Open.ACCESS_READ) != 0;
  }

  public boolean canWrite() {
    return (access & Open.ACCESS_WRITE) != 0;
  }
}
