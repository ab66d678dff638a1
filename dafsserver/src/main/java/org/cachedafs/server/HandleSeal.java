package org.cachedafs.server;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The seal on a durable handle: HMAC-SHA256 under the server's handle key, truncated to
 * {@link #BYTES} bytes, over the handle's bytes and the export root's own kernel handle. Without the
 * key no one can make a handle the server accepts, and a handle made for one export (or for a
 * directory since replaced by another at the same path) does not verify on another, even where two
 * exports share a state directory.
 *
 * <p>128 bits is half the hash, as RFC 2104 advises as the least truncation; a forger must guess
 * them online, one request per guess.
 */
final class HandleSeal {
  static final int BYTES = 16;
  /** A key of a different use never gives the same MAC over the same bytes. */
  private static final byte[] LABEL = "cachedafs file handle 1".getBytes(StandardCharsets.US_ASCII);

  private final SecretKeySpec key;
  private final byte[] exportIdentity;
  /** A Mac is not thread-safe, and making one costs a provider lookup: one per thread. */
  private final ThreadLocal<Mac> macs;

  HandleSeal(byte[] key, byte[] exportIdentity) {
    this.key = new SecretKeySpec(key, "HmacSHA256");
    this.exportIdentity = exportIdentity.clone();
    this.macs = ThreadLocal.withInitial(this::newMac);
    newMac(); // an unusable key fails at start, not on the first handle
  }

  private Mac newMac() {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(key);
      return m;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available: " + e, e);
    }
  }

  /** The seal of {@code bytes[0, length)}. */
  byte[] seal(byte[] bytes, int length) {
    Mac m = macs.get();
    m.update(LABEL);
    m.update((byte) exportIdentity.length);
    m.update(exportIdentity);
    m.update(bytes, 0, length);
    byte[] full = m.doFinal();
    byte[] out = new byte[BYTES];
    System.arraycopy(full, 0, out, 0, BYTES);
    return out;
  }

  /** Whether the last {@link #BYTES} bytes of {@code handle} seal the rest, compared in constant time. */
  boolean verifies(byte[] handle) {
    if (handle.length <= BYTES) {
      return false;
    }
    int body = handle.length - BYTES;
    byte[] expected = seal(handle, body);
    byte[] given = new byte[BYTES];
    System.arraycopy(handle, body, given, 0, BYTES);
    return MessageDigest.isEqual(expected, given);
  }
}
