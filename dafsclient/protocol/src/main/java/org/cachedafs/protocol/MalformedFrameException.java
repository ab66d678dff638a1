package org.cachedafs.protocol;

/** A frame that does not decode: a length past its limit or past the frame, a bad field, trailing bytes. */
public final class MalformedFrameException extends Exception {
  public MalformedFrameException(String message) {
    super(message, null, false, false);
  }
}
