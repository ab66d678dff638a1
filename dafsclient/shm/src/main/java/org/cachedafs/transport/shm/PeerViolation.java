package org.cachedafs.transport.shm;

import java.io.IOException;

/** The peer broke the transport's rules (a malformed record, a corrupt ring): the connection closes. */
final class PeerViolation extends IOException {
  PeerViolation(String message) {
    super(message);
  }

  PeerViolation(String message, Throwable cause) {
    super(message, cause);
  }
}
