package org.cachedafs.transport;

/** A peer's registered region as this side names it: its tag and length. */
public record RemoteRegion(int tag, long length) {}
