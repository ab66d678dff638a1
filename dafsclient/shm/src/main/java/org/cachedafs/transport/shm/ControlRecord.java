package org.cachedafs.transport.shm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.cachedafs.transport.Access;

/**
 * One record on a connection's control socket: 32 bytes, little-endian.
 * <pre>
 *  offset size field
 *  0      1    type
 *  1      1    access (Access ordinal: SEGMENT, REGION)
 *  2      2    reserved, 0
 *  4      4    length (SEGMENT: of the segment; REGION: of the region)
 *  8      8    id (SEGMENT, SEGMENT_CLOSED: the segment's; REGION, REGION_CLOSED: the region's key)
 *  16     8    segment (REGION: the segment holding it)
 *  24     4    offset (REGION: within the segment)
 *  28     4    reserved, 0
 * </pre>
 * A SEGMENT record carries the segment's descriptor (SCM_RIGHTS); ACCEPT carries the ring file's and
 * the doorbell socket's. Nothing else carries descriptors.
 */
record ControlRecord(byte type, byte access, int length, long id, long segment, int offset) {
  static final int BYTES = 32;
  /** A segment of the sender's domain, its descriptor attached; REGION records name it. */
  static final byte SEGMENT = 1;
  /** The sender closed the segment: unmap it; every region in it is closed. */
  static final byte SEGMENT_CLOSED = 2;
  /** A region the peer may reach with one-sided operations. */
  static final byte REGION = 3;
  /** The sender closed the region. */
  static final byte REGION_CLOSED = 4;
  /** The listener's answer to an admitted hello: the ring file and the doorbell socket attached. */
  static final byte ACCEPT = 5;
  /** The listener's answer to a refused hello; the socket closes after it. */
  static final byte REFUSED = 6;

  static ControlRecord segment(long id, int length, Access access) {
    return new ControlRecord(SEGMENT, (byte) access.ordinal(), length, id, 0, 0);
  }

  static ControlRecord segmentClosed(long id) {
    return new ControlRecord(SEGMENT_CLOSED, (byte) 0, 0, id, 0, 0);
  }

  static ControlRecord region(long key, long segment, int offset, int length, Access access) {
    return new ControlRecord(REGION, (byte) access.ordinal(), length, key, segment, offset);
  }

  static ControlRecord regionClosed(long key) {
    return new ControlRecord(REGION_CLOSED, (byte) 0, 0, key, 0, 0);
  }

  static ControlRecord answer(byte type) {
    return new ControlRecord(type, (byte) 0, 0, 0, 0, 0);
  }

  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.put(type).put(access).putShort((short) 0).putInt(length).putLong(id).putLong(segment).putInt(offset).putInt(0);
    return b.array();
  }

  /** Decodes a record; {@link PeerViolation} if its reserved bytes are not zero or its access unknown. */
  static ControlRecord decode(byte[] bytes, int from) throws PeerViolation {
    ByteBuffer b = ByteBuffer.wrap(bytes, from, BYTES).order(ByteOrder.LITTLE_ENDIAN);
    byte type = b.get();
    byte access = b.get();
    short reserved = b.getShort();
    int length = b.getInt();
    long id = b.getLong();
    long segment = b.getLong();
    int offset = b.getInt();
    int reserved2 = b.getInt();
    if (reserved != 0 || reserved2 != 0 || access < 0 || access >= Access.values().length) {
      throw new PeerViolation("malformed control record of type " + type);
    }
    return new ControlRecord(type, access, length, id, segment, offset);
  }

  Access accessValue() {
    return Access.values()[access];
  }
}
