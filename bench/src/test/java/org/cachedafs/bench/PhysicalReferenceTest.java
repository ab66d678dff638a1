package org.cachedafs.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The reference measurements run and give sane, positive figures (no timing targets: the runner reports ratios). */
class PhysicalReferenceTest {
  @Test
  void measuresSomethingRealOnSmallSizes() throws Exception {
    PhysicalReference r = new PhysicalReference(PhysicalReference.memcpy(1 << 20, 64L << 20), PhysicalReference.memcpy(8 << 20, 64L << 20),
        PhysicalReference.transport(64L << 20), PhysicalReference.roundTrip(200));
    System.out.println(r);
    assertTrue(r.memcpySmallGBps() > 0 && r.memcpyLargeGBps() > 0 && r.transportGBps() > 0 && r.roundTripMicros() > 0, r.toString());
  }
}
