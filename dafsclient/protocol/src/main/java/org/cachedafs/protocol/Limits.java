package org.cachedafs.protocol;

/**
 * Every length and count the protocol accepts, checked by the decoder before anything is allocated.
 *
 * <p>Both sides enforce these numbers: the transport refuses a frame longer than {@link #MAX_FRAME}
 * before reading it, and {@link WireReader} refuses a string, byte array or list longer than its limit
 * or than what is left of the frame. A client splits larger transfers into several requests.
 */
public final class Limits {
  /** The largest protocol message (header and body), in bytes. */
  public static final int MAX_FRAME = (1 << 20) + 64 * 1024;
  /** The largest inline READ or WRITE payload. */
  public static final int MAX_INLINE = 1 << 20;
  /** The largest transfer a single READ_DIRECT or WRITE_DIRECT request may name. */
  public static final int MAX_DIRECT = 16 << 20;
  /**
   * The most segments one READ_DIRECT_V may scatter into. Their lengths together are bounded by
   * {@link #MAX_DIRECT}, as a READ_DIRECT's length is.
   */
  public static final int MAX_SEGMENTS = 64;
  /** The largest one-sided transfer a transport moves in one data frame. */
  public static final int MAX_ONE_SIDED = 16 << 20;
  /** The longest region descriptor a transport makes, in bytes (see {@link RegionDescriptor}). */
  public static final int MAX_DESCRIPTOR = 32;
  /** The most transports a TRANSPORT_OFFERS reply offers. */
  public static final int MAX_OFFERS = 4;
  /** The longest transport scheme in an offer, in UTF-8 bytes. */
  public static final int MAX_OFFER_SCHEME = 32;
  /** The longest transport address in an offer, in UTF-8 bytes. */
  public static final int MAX_OFFER_ADDRESS = 4096;
  /** The longest single name in a directory, in UTF-8 bytes (as Linux NAME_MAX). */
  public static final int MAX_NAME = 255;
  /** The longest relative path a LOOKUP may carry, in UTF-8 bytes (as Linux PATH_MAX). */
  public static final int MAX_PATH = 4096;
  /**
   * The longest file handle, in bytes. Room for the largest handle a Linux file system makes
   * ({@code MAX_HANDLE_SZ}, 128 bytes) and what the server puts around it (docs/protocol.md §2.1).
   */
  public static final int MAX_HANDLE_BYTES = 160;
  /** The length of the challenge nonces and of the HMAC-SHA256 proofs. */
  public static final int NONCE_BYTES = 32;
  /**
   * The length of the client id in SESSION_CREATE: random bytes a client chooses once and sends in
   * every session it creates, so that a restarted server knows it again (docs/protocol.md §5).
   */
  public static final int CLIENT_ID_BYTES = 16;
  /** The length of an X25519 key share in the handshake, in bytes. */
  public static final int KEY_SHARE_BYTES = 32;
  /** The most entries one READDIR reply carries. */
  public static final int MAX_READDIR_ENTRIES = 1024;
  /** The most credits (slots) a session can be granted. */
  public static final int MAX_CREDITS = 128;
  /** The longest client name, in UTF-8 bytes. */
  public static final int MAX_CLIENT_NAME = 256;
  /** The most revoked delegation ids one SESSION_RENEW reply reports. */
  public static final int MAX_REVOKED_REPORTED = 1024;
  /**
   * The most references to the server's exported cache one reply carries (ODAFS): with the largest
   * descriptors about 18 KiB, which fits beside an inline READ's largest data in a frame.
   */
  public static final int MAX_REFERENCES = 256;
  /** The longest error message a reply may carry, in UTF-8 bytes. */
  public static final int MAX_MESSAGE = 1024;

  private Limits() {}
}
