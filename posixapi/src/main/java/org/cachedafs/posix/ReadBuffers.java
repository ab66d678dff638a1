package org.cachedafs.posix;

import java.nio.ByteBuffer;

/**
 * Each thread's buffer over the array it last read into. A cached read takes about 100 ns, and a new
 * {@code ByteBuffer.wrap} per call, which escapes into the cache, would add an allocation to every
 * one; callers mostly read into the same array again. It holds on to that one array per thread, for
 * every mount of one facade.
 */
final class ReadBuffers {
  private final ThreadLocal<ByteBuffer[]> held = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

  ByteBuffer over(byte[] buf, int off, int len) {
    ByteBuffer[] h = held.get();
    ByteBuffer b = h[0];
    if (b == null || b.array() != buf) {
      b = ByteBuffer.wrap(buf);
      h[0] = b;
    }
    b.limit(off + len).position(off);
    return b;
  }
}
