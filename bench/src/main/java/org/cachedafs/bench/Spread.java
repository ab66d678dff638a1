package org.cachedafs.bench;

import java.util.Arrays;
import java.util.Collection;

/**
 * A figure measured several times: its median and the range of the repetitions. The median, not the
 * mean, because one repetition that a neighbour's build slowed down should not move the figure.
 *
 * @param median the median (the mean of the middle two for an even count)
 * @param min the smallest repetition
 * @param max the largest repetition
 * @param count how many repetitions
 */
record Spread(double median, double min, double max, int count) {
  static Spread of(Collection<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (v.length == 0) {
      throw new IllegalArgumentException("no values");
    }
    int mid = v.length / 2;
    double median = v.length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    return new Spread(median, v[0], v[v.length - 1], v.length);
  }

  static Spread of(double... values) {
    return of(Arrays.stream(values).boxed().toList());
  }
}
