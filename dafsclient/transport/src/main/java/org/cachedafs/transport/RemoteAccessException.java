package org.cachedafs.transport;

import java.io.IOException;

/** A one-sided operation named a region the peer does not have, or outside its bounds or access. */
public final class RemoteAccessException extends IOException {
  public RemoteAccessException(String message) {
    super(message);
  }
}
