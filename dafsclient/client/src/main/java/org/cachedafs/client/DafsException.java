package org.cachedafs.client;

import java.io.IOException;
import org.cachedafs.protocol.Status;

/**
 * A DAFS operation failed with a protocol status. The status says what happened: a missing file is
 * {@link Status#NOENT}, a removed file's handle {@link Status#STALE}, a revoked delegation
 * {@link Status#DELEG_REVOKED}; callers branch on {@link #status()}, not on the message.
 */
public class DafsException extends IOException {
  private final Status status;
  private final String detail;

  public DafsException(Status status, String message) {
    super(status.name() + " (" + status.description() + ")" + (message == null || message.isEmpty() ? "" : ": " + message));
    this.status = status;
    this.detail = message == null ? "" : message;
  }

  public DafsException(Status status, String message, Throwable cause) {
    this(status, message);
    initCause(cause);
  }

  public Status status() {
    return status;
  }

  /** What the server (or the client) said beyond the status; empty if nothing. */
  public String detail() {
    return detail;
  }

  /** {@code t} itself if it is one, else an {@code IO} failure caused by it. */
  static DafsException of(Throwable t) {
    if (t instanceof DafsException d) {
      return d;
    }
    return new DafsException(Status.IO, String.valueOf(t), t);
  }
}
