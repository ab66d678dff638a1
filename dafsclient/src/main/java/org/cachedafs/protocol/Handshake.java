package org.cachedafs.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Challenge/response over a shared secret; the secret never crosses the wire.
 *
 * <ol>
 *   <li>client → AUTH_INIT(name); server → CHALLENGE(serverNonce), fresh for the connection;
 *   <li>client → SESSION_CREATE or SESSION_BIND with clientNonce and
 *       {@code proof = HMAC-SHA256(secret, "client" | serverNonce | clientNonce | name)};
 *   <li>server checks it in constant time and answers with
 *       {@code HMAC-SHA256(secret, "server" | clientNonce | serverNonce | name)}, which the client checks,
 *       so each side knows the other holds the secret.
 * </ol>
 * A server started without a secret uses the empty secret and serves loopback peers only.
 */
public final class Handshake {
  private Handshake() {}

  public static byte[] nonce(SecureRandom random) {
    byte[] b = new byte[Limits.NONCE_BYTES];
    random.nextBytes(b);
    return b;
  }

  public static byte[] clientProof(byte[] secret, byte[] serverNonce, byte[] clientNonce, String name) {
    return hmac(secret, "client", serverNonce, clientNonce, name);
  }

  public static byte[] serverProof(byte[] secret, byte[] serverNonce, byte[] clientNonce, String name) {
    return hmac(secret, "server", clientNonce, serverNonce, name);
  }

  /** Constant-time comparison, so the time taken says nothing about how much of a proof was right. */
  public static boolean matches(byte[] expected, byte[] actual) {
    return MessageDigest.isEqual(expected, actual);
  }

  private static byte[] hmac(byte[] secret, String role, byte[] first, byte[] second, String name) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      // SecretKeySpec refuses an empty key; HMAC pads keys with zeros, so a single zero byte is the same key.
      byte[] key = secret.length == 0 ? new byte[1] : secret;
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(role.getBytes(StandardCharsets.US_ASCII));
      mac.update(first);
      mac.update(second);
      mac.update(ByteBuffer.wrap(name.getBytes(StandardCharsets.UTF_8)));
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java platform", e);
    }
  }
}
