package org.cachedafs.protocol;

/** A decoded message: its header and its body. */
public record Frame(FrameHeader header, Body body) {}
