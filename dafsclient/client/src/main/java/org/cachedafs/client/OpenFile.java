package org.cachedafs.client;

import org.cachedafs.protocol.FileAttributes;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Replies.Opened;

/**
 * An open of a file in one session: its state id names the open on the server, and reads, writes and
 * locks go through it. Another session cannot use it.
 *
 * @param delegation {@link Opened#DELEGATION_NONE}, {@code _READ} or {@code _WRITE}
 * @param delegationId 0 when no delegation was granted
 */
public record OpenFile(FileHandle handle, long stateId, OpenMode mode, FileAttributes attributes, int delegation, long delegationId) {
  public boolean hasDelegation() {
    return delegation != Opened.DELEGATION_NONE;
  }

  public boolean hasWriteDelegation() {
    return delegation == Opened.DELEGATION_WRITE;
  }
}
