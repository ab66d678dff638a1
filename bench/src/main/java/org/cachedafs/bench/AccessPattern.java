package org.cachedafs.bench;

import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.PermutationSampler;
import org.apache.commons.rng.sampling.distribution.DiscreteSampler;
import org.apache.commons.rng.sampling.distribution.RejectionInversionZipfSampler;
import org.apache.commons.rng.simple.RandomSource;

/**
 * The chunk each operation of a workload touches. Zipf ranks are scattered over the file through a
 * fixed permutation, so the hot chunks are not simply the file's first ones (which read-ahead from
 * offset 0 would favour).
 */
final class AccessPattern {
  private final Workload.Access access;
  private final long chunks;
  private final UniformRandomProvider rng;
  private final DiscreteSampler zipf;
  private final int[] rankToChunk;
  private long next;

  AccessPattern(Workload w, long seed) {
    this.access = w.access();
    this.chunks = w.chunks();
    this.rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
    if (access == Workload.Access.ZIPF) {
      if (chunks > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("too many chunks for Zipf: " + chunks);
      }
      zipf = RejectionInversionZipfSampler.of(rng, (int) chunks, w.zipfSkew());
      rankToChunk = PermutationSampler.natural((int) chunks);
      PermutationSampler.shuffle(RandomSource.XO_RO_SHI_RO_128_PP.create(seed ^ 0x5eed), rankToChunk);
    } else {
      zipf = null;
      rankToChunk = null;
    }
  }

  /** The next chunk number. Sequential access wraps around at the end of the file. */
  long nextChunk() {
    switch (access) {
      case SEQUENTIAL:
        long c = next;
        next = (next + 1) % chunks;
        return c;
      case UNIFORM:
        return rng.nextLong(chunks);
      default:
        return rankToChunk[zipf.sample() - 1];
    }
  }

  /** A coin with probability {@code p} of true, from the same generator. */
  boolean chance(double p) {
    return rng.nextDouble() < p;
  }
}
