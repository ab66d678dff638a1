package org.cachedafs.transport;

import java.nio.ByteBuffer;

/**
 * One received message, in a buffer the provider owns (a posted receive buffer on verbs, a slot of a
 * shared ring on shm). The handler either reads it in place and {@linkplain #release releases} it,
 * or {@linkplain #detach detaches} it into memory of its own. Exactly one of the two, exactly once:
 * until then the provider cannot reuse the buffer, and a handler that holds many starves the
 * connection of receive buffers ({@link Capabilities#receiveDepth}).
 */
public interface Received {
  /** The message, from its position to its limit. Valid until {@link #release} or {@link #detach}. */
  ByteBuffer buffer();

  /** Gives the buffer back to the provider. Idempotent. */
  void release();

  /**
   * The message in memory the caller owns from now on, which the provider never touches again:
   * the provider's own buffer where it gives buffers away (tcp), a copy otherwise. Releases the
   * provider's buffer.
   */
  ByteBuffer detach();

  /** A message in a buffer that nobody needs back: detach gives it away. */
  static Received owned(ByteBuffer message) {
    return new Received() {
      private ByteBuffer m = message;

      @Override
      public ByteBuffer buffer() {
        if (m == null) {
          throw new IllegalStateException("the message was released");
        }
        return m;
      }

      @Override
      public void release() {
        m = null;
      }

      @Override
      public ByteBuffer detach() {
        ByteBuffer b = buffer();
        m = null;
        return b;
      }
    };
  }
}
