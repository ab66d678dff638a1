package org.cachedafs.server;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.client.OpenMode;

/**
 * One file cached by one client the way the cache module caches (this module's tests cannot reach
 * it): its bytes are kept only while the client holds a delegation on it, writes stay in the copy
 * under a WRITE delegation, and a recall writes them back, drops the copy and returns the delegation,
 * after {@code returnDelayMillis} (negative: never, a holder that hangs).
 */
final class DelegatedCopy {
  private final DafsSession session;
  private final long returnDelayMillis;
  /** Delegation ids recalled from this client, in order. */
  final BlockingQueue<Long> recalled = new LinkedBlockingQueue<>();
  private OpenFile file;
  /** Guarded by this: the cached bytes, null when none are cached. */
  private byte[] copy;
  /** Guarded by this: the first byte of the copy not yet written back, or -1. */
  private int dirtyFrom = -1;
  private int dirtyTo;
  /** Guarded by this: the delegation the copy is kept under, 0 when none. */
  private long delegation;

  DelegatedCopy(DafsSession session, long returnDelayMillis) {
    this.session = session;
    this.returnDelayMillis = returnDelayMillis;
    session.setRecallListener((id, handle) -> {
      recalled.add(id);
      if (returnDelayMillis >= 0) {
        CompletableFuture.delayedExecutor(returnDelayMillis, TimeUnit.MILLISECONDS).execute(() -> recall(id));
      }
    });
  }

  /** Opens the file; returns whether a delegation came with the open (then the copy may be kept). */
  synchronized boolean open(String name, boolean write) throws DafsException {
    file = session.open(session.root(), name, write ? OpenMode.readWrite() : OpenMode.read());
    copy = null;
    delegation = file.delegationId();
    return file.hasDelegation();
  }

  /** The file's bytes: from the copy while the delegation is held, else from the server (kept if it is). */
  synchronized byte[] read() throws DafsException {
    if (copy != null) {
      return copy.clone();
    }
    ByteBuffer b = ByteBuffer.allocate(64 << 10);
    int n = session.read(file, 0, b);
    byte[] bytes = Arrays.copyOf(b.array(), Math.max(n, 0));
    if (delegation != 0) {
      copy = bytes.clone();
    }
    return bytes;
  }

  /** A write kept in the copy, to be written back at the recall (needs a WRITE delegation). */
  synchronized void writeBehind(int offset, byte[] bytes) throws DafsException {
    if (!file.hasWriteDelegation() || delegation == 0) {
      throw new IllegalStateException("write-back needs a WRITE delegation");
    }
    read();
    if (copy.length < offset + bytes.length) {
      copy = Arrays.copyOf(copy, offset + bytes.length);
    }
    System.arraycopy(bytes, 0, copy, offset, bytes.length);
    dirtyFrom = dirtyFrom < 0 ? offset : Math.min(dirtyFrom, offset);
    dirtyTo = Math.max(dirtyTo, offset + bytes.length);
  }

  synchronized boolean cached() {
    return copy != null;
  }

  /** The recall: write back, drop, return. */
  private void recall(long id) {
    synchronized (this) {
      try {
        if (dirtyFrom >= 0) {
          session.write(file, dirtyFrom, ByteBuffer.wrap(copy, dirtyFrom, dirtyTo - dirtyFrom));
        }
      } catch (DafsException e) {
        throw new AssertionError("write-back at the recall failed", e);
      } finally {
        dirtyFrom = -1;
        dirtyTo = 0;
        copy = null;
        delegation = 0;
      }
    }
    session.returnDelegationAsync(id, file.handle());
  }
}
