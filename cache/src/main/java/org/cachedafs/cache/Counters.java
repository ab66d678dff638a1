package org.cachedafs.cache;

import java.util.concurrent.atomic.LongAdder;

/** The cache's statistics, in striped counters so the hit path never contends on one word. */
final class Counters {
  final LongAdder hits = new LongAdder();
  final LongAdder misses = new LongAdder();
  final LongAdder evictions = new LongAdder();
  final LongAdder readAheadIssued = new LongAdder();
  final LongAdder readAheadUsed = new LongAdder();
  final LongAdder bytesFlushed = new LongAdder();
  final LongAdder writeBacks = new LongAdder();
  final LongAdder writeThroughs = new LongAdder();
  final LongAdder lostBytes = new LongAdder();
  /** Cached writes a writer paused for, between the throttle point and the hard limit. */
  final LongAdder writerThrottles = new LongAdder();
  /** Cached writes after which the writer wrote back before going on (the hard limit). */
  final LongAdder writerStalls = new LongAdder();
  /** Passes of the background write-back started because dirty blocks passed the low watermark. */
  final LongAdder backgroundWriteBacks = new LongAdder();
}
