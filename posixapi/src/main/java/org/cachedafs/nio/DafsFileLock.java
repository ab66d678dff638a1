package org.cachedafs.nio;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import org.cachedafs.protocol.LockRange;

/** A byte-range lock held on the server through a {@link DafsFileChannel}. */
final class DafsFileLock extends FileLock {
  private final DafsFileChannel channel;
  private volatile boolean valid = true;

  DafsFileLock(DafsFileChannel channel, long position, long size, boolean shared) {
    super((FileChannel) channel, position, size, shared);
    this.channel = channel;
  }

  LockRange range() {
    return new LockRange(position(), size() == Long.MAX_VALUE ? 0 : size(), !isShared());
  }

  @Override
  public boolean isValid() {
    return valid && channel.isOpen();
  }

  void invalidate() {
    valid = false;
  }

  @Override
  public void release() throws IOException {
    if (valid) {
      channel.release(this);
    }
  }
}
