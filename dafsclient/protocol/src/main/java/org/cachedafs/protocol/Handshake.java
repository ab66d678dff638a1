package org.cachedafs.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Challenge/response over a shared secret, and a per-session key; neither ever crosses the wire.
 *
 * <ol>
 *   <li>client → AUTH_INIT(name); server → CHALLENGE(serverNonce), fresh for the connection;
 *   <li>client → SESSION_CREATE(clientNonce, clientShare, proof, clientId) with an ephemeral X25519 key
 *       share and {@code proof = HMAC(secret, "client" | serverNonce | clientNonce | name | clientShare
 *       | clientId)};
 *   <li>server checks it in constant time and answers with its own ephemeral share and
 *       {@code HMAC(secret, "server" | clientNonce | serverNonce | name | clientShare | serverShare)},
 *       which the client checks, so each side knows the other holds the secret and that the shares
 *       are the ones the other sent;
 *   <li>both derive {@code sessionKey = HMAC(secret, "session" | X25519(shares) | serverNonce |
 *       clientNonce | name)}. The X25519 agreement makes it unknown to anyone else, including other
 *       clients that hold the same secret and an observer of the whole exchange.
 * </ol>
 * A reconnecting client binds its new connection to the session by proving it holds the session key
 * over the new connection's challenge: SESSION_BIND(sessionId, clientNonce,
 * {@code HMAC(sessionKey, "bind" | serverNonce | clientNonce | sessionId)}), and the server answers
 * with {@code HMAC(sessionKey, "bound" | clientNonce | serverNonce | sessionId)}. Knowing a session's
 * id and client name, or even the secret, is not enough to take it over.
 *
 * <p>A server started without a secret uses the empty secret and serves loopback peers only.
 */
public final class Handshake {
  /** The X.509 prefix of an X25519 public key; what follows it is the 32-byte share. */
  private static final byte[] X25519_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00};

  private Handshake() {}

  public static byte[] nonce(SecureRandom random) {
    byte[] b = new byte[Limits.NONCE_BYTES];
    random.nextBytes(b);
    return b;
  }

  /** A fresh ephemeral key pair for one handshake. */
  public static KeyPair ephemeral() {
    try {
      return KeyPairGenerator.getInstance("X25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("X25519 is part of every Java 11+ platform", e);
    }
  }

  /** The 32-byte public share of a key pair, as it goes on the wire. */
  public static byte[] share(KeyPair pair) {
    byte[] encoded = pair.getPublic().getEncoded();
    return Arrays.copyOfRange(encoded, encoded.length - Limits.KEY_SHARE_BYTES, encoded.length);
  }

  /**
   * The shared secret of our pair and the peer's share.
   *
   * @throws IllegalArgumentException if the peer's share is not a usable X25519 public key
   */
  public static byte[] agree(KeyPair mine, byte[] theirShare) {
    if (theirShare.length != Limits.KEY_SHARE_BYTES) {
      throw new IllegalArgumentException("a key share is " + Limits.KEY_SHARE_BYTES + " bytes, not " + theirShare.length);
    }
    try {
      byte[] encoded = Arrays.copyOf(X25519_PREFIX, X25519_PREFIX.length + theirShare.length);
      System.arraycopy(theirShare, 0, encoded, X25519_PREFIX.length, theirShare.length);
      PublicKey theirs = KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(encoded));
      KeyAgreement ka = KeyAgreement.getInstance("X25519");
      ka.init(mine.getPrivate());
      ka.doPhase(theirs, true);
      return ka.generateSecret();
    } catch (GeneralSecurityException e) {
      // A low-order point gives an all-zero secret, which the JDK refuses: a hostile share.
      throw new IllegalArgumentException("unusable key share: " + e.getMessage(), e);
    }
  }

  /** Covers the client id too, so that no one without the secret can make a client take on another's identity. */
  public static byte[] clientProof(byte[] secret, byte[] serverNonce, byte[] clientNonce, String name, byte[] clientShare, byte[] clientId) {
    return hmac(secret, "client", serverNonce, clientNonce, utf8(name), clientShare, clientId);
  }

  public static byte[] serverProof(byte[] secret, byte[] serverNonce, byte[] clientNonce, String name, byte[] clientShare, byte[] serverShare) {
    return hmac(secret, "server", clientNonce, serverNonce, utf8(name), clientShare, serverShare);
  }

  public static byte[] sessionKey(byte[] secret, byte[] agreed, byte[] serverNonce, byte[] clientNonce, String name) {
    return hmac(secret, "session", agreed, serverNonce, clientNonce, utf8(name));
  }

  public static byte[] bindProof(byte[] sessionKey, byte[] serverNonce, byte[] clientNonce, long sessionId) {
    return hmac(sessionKey, "bind", serverNonce, clientNonce, longBytes(sessionId));
  }

  public static byte[] boundProof(byte[] sessionKey, byte[] serverNonce, byte[] clientNonce, long sessionId) {
    return hmac(sessionKey, "bound", clientNonce, serverNonce, longBytes(sessionId));
  }

  /** Constant-time comparison, so the time taken says nothing about how much of a proof was right. */
  public static boolean matches(byte[] expected, byte[] actual) {
    return MessageDigest.isEqual(expected, actual);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  private static byte[] hmac(byte[] key, String role, byte[]... parts) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      // SecretKeySpec refuses an empty key; HMAC pads keys with zeros, so a single zero byte is the same key.
      mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, "HmacSHA256"));
      mac.update(role.getBytes(StandardCharsets.US_ASCII));
      for (byte[] p : parts) {
        // Length-prefixed, so that no two different sequences of parts hash the same.
        mac.update(longBytes(p.length), 4, 4);
        mac.update(p);
      }
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java platform", e);
    }
  }
}
