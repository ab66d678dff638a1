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
}
