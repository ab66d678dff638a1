package org.cachedafs.transport;

import java.time.Duration;

/**
 * How much one connection may hold back when its peer does not keep up, and for how long.
 *
 * <p>Nothing that sends on a connection ever waits for the peer: a frame the socket cannot take at
 * once is queued, and a dedicated thread of the connection drains the queue. These limits are what
 * keep that queue, and so one slow or hostile peer, from costing anyone else memory or threads:
 * <ul>
 *   <li>above {@code queueHighWater} queued bytes an accepted connection (a server's) stops reading
 *       the peer's frames (back-pressure: a peer that does not read its replies gets no new ones),
 *       and resumes below half of it. A connecting side (a client) never stops reading, so that two
 *       peers can never wait on each other;
 *   <li>above {@code queueHardLimit} a send fails and the connection closes;
 *   <li>a queue that has not moved for {@code stallTimeout} closes the connection, and so does a
 *       back-pressure pause that lasts as long.
 * </ul>
 *
 * @param queueHighWater queued bytes above which the peer's frames are no longer read
 * @param queueHardLimit queued bytes above which the connection is closed
 * @param stallTimeout how long a non-empty queue may go without progress before the connection closes
 */
public record ConnectionLimits(long queueHighWater, long queueHardLimit, Duration stallTimeout) {
  public ConnectionLimits {
    if (queueHighWater < 1 || queueHardLimit < queueHighWater) {
      throw new IllegalArgumentException("need 0 < queueHighWater <= queueHardLimit, not " + queueHighWater + " and " + queueHardLimit);
    }
    if (stallTimeout.isNegative() || stallTimeout.isZero()) {
      throw new IllegalArgumentException("the stall timeout must be positive, not " + stallTimeout);
    }
  }

  /** 4 MiB high water, 160 MiB hard limit (room for 128 credits of 1 MiB replies), 15 s stall timeout. */
  public static ConnectionLimits defaults() {
    return new ConnectionLimits(4L << 20, 160L << 20, Duration.ofSeconds(15));
  }

  public ConnectionLimits withStallTimeout(Duration d) {
    return new ConnectionLimits(queueHighWater, queueHardLimit, d);
  }

  public ConnectionLimits withQueue(long highWater, long hardLimit) {
    return new ConnectionLimits(highWater, hardLimit, stallTimeout);
  }
}
