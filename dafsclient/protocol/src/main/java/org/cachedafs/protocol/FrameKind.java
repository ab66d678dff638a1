package org.cachedafs.protocol;

/** What a frame is: a client's request and its reply, or a server's callback and the client's reply to it. */
public enum FrameKind {
  REQUEST(1),
  REPLY(2),
  CALLBACK(3),
  CALLBACK_REPLY(4);

  private final int wire;

  FrameKind(int wire) {
    this.wire = wire;
  }

  int wire() {
    return wire;
  }

  static FrameKind ofWire(int b) throws MalformedFrameException {
    for (FrameKind k : values()) {
      if (k.wire == b) {
        return k;
      }
    }
    throw new MalformedFrameException("unknown frame kind " + b);
  }

  public boolean isReply() {
    return this == REPLY || this == CALLBACK_REPLY;
  }
}
