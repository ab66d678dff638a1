package org.cachedafs.nio;

import java.nio.file.ClosedFileSystemException;
import org.cachedafs.client.DafsException;

/**
 * A file system whose session was lost for good is closed in the JDK's sense ({@code isOpen()} is
 * false), but unlike one its owner closed, the reason matters: this says which server and why.
 */
final class SessionLostException extends ClosedFileSystemException {
  private static final long serialVersionUID = 1L;

  private final String message;

  SessionLostException(String message, DafsException cause) {
    this.message = message;
    initCause(cause);
  }

  @Override
  public String getMessage() {
    return message;
  }
}
