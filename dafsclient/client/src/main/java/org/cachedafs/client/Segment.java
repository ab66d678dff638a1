package org.cachedafs.client;

import org.cachedafs.transport.Region;

/**
 * One piece of a scatter list for {@link DafsSession#readDirectVAsync}: {@code length} bytes of
 * {@code region} (registered with the session) at {@code regionOffset}.
 */
public record Segment(Region region, int regionOffset, int length) {}
