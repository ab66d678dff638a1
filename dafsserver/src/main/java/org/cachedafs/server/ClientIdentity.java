package org.cachedafs.server;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Who a client is across server restarts: the random id it chose once and sends in every
 * SESSION_CREATE, and its name. A session dies with the server; the identity is what the server
 * records on disk ({@link ClientRecords}) so that, after a restart, it lets that client reclaim what
 * it held.
 *
 * @param id the client's id, in hex
 * @param name the client name of its AUTH_INIT
 */
record ClientIdentity(String id, String name) {
  static ClientIdentity of(byte[] id, String name) {
    return new ClientIdentity(HexFormat.of().formatHex(id), name);
  }

  /** One line of the records file: the id and the name's UTF-8 bytes, both in hex, so no name can break the line. */
  String encoded() {
    return id + " " + HexFormat.of().formatHex(name.getBytes(StandardCharsets.UTF_8));
  }

  /** The identity a line's fields name; IllegalArgumentException if they are not hex. */
  static ClientIdentity decode(String id, String hexName) {
    HexFormat.of().parseHex(id);
    return new ClientIdentity(id, new String(HexFormat.of().parseHex(hexName), StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "'" + name + "' (" + id.substring(0, Math.min(8, id.length())) + ")";
  }
}
