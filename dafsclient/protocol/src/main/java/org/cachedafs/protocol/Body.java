package org.cachedafs.protocol;

/** The body of a request, reply or callback: one record for each message of the protocol. */
public interface Body {
  void encode(WireWriter w);
}
