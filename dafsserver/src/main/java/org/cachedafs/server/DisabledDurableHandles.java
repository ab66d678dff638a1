package org.cachedafs.server;

import java.nio.file.Path;
import org.cachedafs.protocol.FileHandle;
import org.cachedafs.protocol.Status;

/** No durable handles: every file gets a random handle, valid until the server stops. */
enum DisabledDurableHandles implements DurableHandles {
  INSTANCE;

  @Override
  public FileHandle handleOf(Path p) {
    return null;
  }

  @Override
  public boolean isDurable(FileHandle h) {
    return false;
  }

  @Override
  public boolean sealed(FileHandle h) {
    return false;
  }

  @Override
  public Path locate(FileHandle h) throws OpException {
    throw new OpException(Status.STALE, "this server makes no durable handles");
  }

  @Override
  public void close() {}
}
