package org.cachedafs.server;

import org.cachedafs.protocol.Status;

/** An operation failed with a protocol status; the dispatcher turns it into an error reply. */
final class OpException extends Exception {
  private final Status status;

  OpException(Status status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  Status status() {
    return status;
  }
}
