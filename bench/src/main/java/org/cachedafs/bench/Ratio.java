package org.cachedafs.bench;

import java.util.List;

/**
 * A ratio of two numbers measured in the same run, beside the goal the project set for it. Each
 * repetition gives one ratio, of the two sides measured next to each other in that repetition; the
 * value is their median, and min and max show how far the repetitions disagreed.
 *
 * @param value the median ratio, or null when one side was not measured (see {@code why})
 * @param min the smallest repetition's ratio, or null
 * @param max the largest repetition's ratio, or null
 * @param repeats how many repetitions the ratio was taken over (0 when not measured)
 * @param goal the target from the issue, or null for a figure with no goal
 * @param atLeast whether the goal is a floor (true) or a ceiling (false)
 * @param met whether the median meets the goal; null when not measured
 * @param what what was divided by what
 * @param why why it is missing, or null
 */
record Ratio(Double value, Double min, Double max, int repeats, Double goal, boolean atLeast, Boolean met, String what,
    String why) {
  /** The ratio over repetitions, one value each. */
  static Ratio of(List<Double> perRepetition, double goal, boolean atLeast, String what) {
    List<Double> v = perRepetition.stream().filter(x -> !x.isNaN() && !x.isInfinite()).toList();
    if (v.isEmpty()) {
      return missing(goal, atLeast, what, "the denominator was not measured");
    }
    Spread s = Spread.of(v);
    return new Ratio(s.median(), s.min(), s.max(), s.count(), goal, atLeast,
        atLeast ? s.median() >= goal : s.median() <= goal, what, null);
  }

  /** A figure measured once per repetition, with no goal: its median and spread. */
  static Ratio figure(List<Double> perRepetition, String what, String whyMissing) {
    if (perRepetition.isEmpty()) {
      return missing(null, false, what, whyMissing);
    }
    Spread s = Spread.of(perRepetition);
    return new Ratio(s.median(), s.min(), s.max(), s.count(), null, false, null, what, null);
  }

  /** A measured figure reported beside the ratios, with no goal. */
  static Ratio figure(double value, String what) {
    return new Ratio(value, value, value, 1, null, false, null, what, null);
  }

  static Ratio missing(Double goal, boolean atLeast, String what, String why) {
    return new Ratio(null, null, null, 0, goal, atLeast, null, what, why);
  }
}
