package org.cachedafs.cache;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.cachedafs.client.DafsException;
import org.cachedafs.client.DafsSession;
import org.cachedafs.client.OpenFile;
import org.cachedafs.transport.Region;

/**
 * Registered buffers through which large reads and writes that go to the server (uncached opens, and
 * files without a delegation) move by direct transfer instead of inline: the server places a read's
 * bytes straight into one, or pulls a write's bytes out of one, and the caller's array is copied once.
 * An inline megabyte is copied into a message on the server, out of the socket into a new buffer on
 * the client, and once more into the caller's array; at 1 MiB an uncached sequential read ran at a
 * third of the NFS peer's speed that way. Write-back gathers runs of adjacent dirty blocks through
 * them too ({@link #gatherWriteAsync}).
 *
 * <p>Owner: the {@link CacheManager}. A buffer is allocated and registered the first time it is
 * needed, at most {@code max} of them, and deregistered at {@link #close}. A caller that finds none
 * free goes inline rather than wait.
 */
final class BounceBuffers {
  /** Reads and writes of at least this many bytes go direct. */
  static final int DIRECT_MIN = 64 << 10;

  private final DafsSession session;
  private final int size;
  private final int max;
  /** Guarded by this. */
  private final ArrayDeque<Bounce> free = new ArrayDeque<>();
  /** Guarded by this. */
  private final List<Bounce> all = new ArrayList<>();
  /** Guarded by this. */
  private boolean closed;

  private record Bounce(ByteBuffer memory, Region region) {}

  BounceBuffers(DafsSession session, int max, int size) {
    this.session = session;
    this.max = max;
    this.size = size;
  }

  private synchronized Bounce acquire() {
    if (closed) {
      return null;
    }
    Bounce b = free.poll();
    if (b == null && all.size() < max) {
      Region region = session.allocate(size);
      b = new Bounce(region.buffer(), region);
      all.add(b);
    }
    return b;
  }

  private synchronized void release(Bounce b) {
    if (closed) {
      b.region().close();
    } else {
      free.push(b);
    }
  }

  /**
   * Reads up to {@code dst.remaining()} bytes at {@code position} by direct transfers, advancing
   * {@code dst}; returns the count (short only at end of file), or -1 if no buffer was free.
   */
  int read(OpenFile of, long position, ByteBuffer dst) throws DafsException {
    Bounce b = acquire();
    if (b == null) {
      return -1;
    }
    try {
      int total = 0;
      while (dst.hasRemaining()) {
        int want = Math.min(size, dst.remaining());
        int n = session.readDirect(of, position + total, b.region(), 0, want);
        dst.put(b.memory().duplicate().position(0).limit(n));
        total += n;
        if (n < want) {
          break;
        }
      }
      return total;
    } finally {
      release(b);
    }
  }

  /** Writes all of {@code src} at {@code position} by direct transfers, advancing it; false if no buffer was free. */
  boolean write(OpenFile of, long position, ByteBuffer src) throws DafsException {
    Bounce b = acquire();
    if (b == null) {
      return false;
    }
    try {
      long at = position;
      while (src.hasRemaining()) {
        int n = Math.min(size, src.remaining());
        b.memory().clear().put(src.slice().limit(n));
        session.writeDirect(of, at, b.region(), 0, n);
        src.position(src.position() + n);
        at += n;
      }
      return true;
    } finally {
      release(b);
    }
  }

  /** The most a gathered write carries: one buffer. */
  int size() {
    return size;
  }

  /**
   * Copies {@code sources} (each from its position to its limit, left unchanged), which lie end to end
   * in the file from {@code position}, into one buffer and writes them by one direct transfer; the
   * buffer is given back when the transfer ends. Null if no buffer was free. The copy is made before
   * this returns, so the sources may change afterwards without changing what is written.
   */
  CompletableFuture<Integer> gatherWriteAsync(OpenFile of, long position, List<ByteBuffer> sources) {
    Bounce b;
    try {
      b = acquire(); // its first use allocates and registers, which can fail
    } catch (RuntimeException | OutOfMemoryError e) {
      return CompletableFuture.failedFuture(e);
    }
    if (b == null) {
      return null;
    }
    CompletableFuture<Integer> io;
    try {
      ByteBuffer memory = b.memory().clear();
      for (ByteBuffer src : sources) {
        memory.put(src.duplicate());
      }
      io = session.writeDirectAsync(of, position, b.region(), 0, memory.position());
    } catch (RuntimeException e) {
      release(b);
      return CompletableFuture.failedFuture(e);
    }
    return io.whenComplete((n, e) -> release(b));
  }

  /** Deregisters the buffers; one in use is deregistered when its caller gives it back. */
  synchronized void close() {
    closed = true;
    for (Bounce b : free) {
      b.region().close();
    }
    free.clear();
  }
}
