package org.cachedafs.server;

import java.nio.channels.FileChannel;

/**
 * One open of a file by one session. It owns its channel: {@link ServerSession} closes it on CLOSE or
 * when the session ends. Removing the file leaves the channel usable, as unlink(2) does.
 *
 * @param channel null for a directory opened for reading
 */
record OpenState(long stateId, ServerSession owner, FileNode node, FileChannel channel, int access, int deny) {
  boolean canRead() {
    return (access & 1) != 0;
  }

  boolean canWrite() {
    return (access & 2) != 0;
  }
}
