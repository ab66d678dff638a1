package org.cachedafs.protocol;

@FunctionalInterface
interface BodyDecoder {
  Body decode(WireReader r) throws MalformedFrameException;
}
