package org.cachedafs.server;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.cachedafs.transport.Access;
import org.cachedafs.transport.MemoryDomain;
import org.cachedafs.transport.Region;

/**
 * The server's registered memory for direct I/O: one slab, registered once when the server starts,
 * carved into fixed chunks. A direct read fills a chunk from the file and writes it into the client's
 * region; a direct write reads the client's region into a chunk and writes it to the file.
 *
 * <p>The pool owns the slab and its region; a transfer owns a chunk from {@link #acquire} until it
 * passes the same index to {@link #release}, which it does only once no one-sided transfer through
 * the chunk can still touch it (see {@code DataOps}). Closing the pool deregisters the slab.
 */
final class StagingPool implements AutoCloseable {
  private final Region region;
  private final int chunkSize;
  private final BlockingQueue<Integer> free;

  StagingPool(MemoryDomain domain, int chunks, int chunkSize) {
    this.chunkSize = chunkSize;
    this.region = domain.allocate(chunks * chunkSize, Access.LOCAL);
    this.free = new ArrayBlockingQueue<>(chunks);
    for (int i = 0; i < chunks; i++) {
      free.add(i);
    }
  }

  Region region() {
    return region;
  }

  int chunkSize() {
    return chunkSize;
  }

  /** Waits up to {@code timeoutMillis} for a free chunk; returns its offset in the region, or -1. */
  int acquire(long timeoutMillis) throws InterruptedException {
    Integer i = free.poll(timeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
    return i == null ? -1 : i * chunkSize;
  }

  void release(int offset) {
    free.add(offset / chunkSize);
  }

  /** A view of a chunk, limited to {@code length} bytes; valid until the chunk is released. */
  ByteBuffer view(int offset, int length) {
    return region.buffer().position(offset).limit(offset + length).slice();
  }

  @Override
  public void close() {
    region.close();
  }
}
