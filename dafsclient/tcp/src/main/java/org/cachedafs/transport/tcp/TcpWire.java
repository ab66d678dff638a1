package org.cachedafs.transport.tcp;

/** Constants of the tcp transport's frame header (see package-info). */
final class TcpWire {
  static final int HEADER_BYTES = 40;
  /** A region's descriptor: its 64-bit random key. */
  static final int DESCRIPTOR_BYTES = 8;
  static final byte MSG = 1;
  static final byte WRITE = 2;
  static final byte READ_REQ = 3;
  static final byte READ_RESP = 4;
  static final byte STATUS_OK = 0;
  static final byte STATUS_ACCESS_ERROR = 1;
  /** The largest message: a 1 MiB payload and its protocol header, with room to spare. */
  static final int MAX_MESSAGE = (1 << 20) + 64 * 1024;
  static final int MAX_ONE_SIDED = 16 << 20;
  /** The longest payload of any frame. */
  static final int MAX_PAYLOAD = Math.max(MAX_MESSAGE, MAX_ONE_SIDED);

  private TcpWire() {}
}
