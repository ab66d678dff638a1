package org.cachedafs.bench;

/**
 * A ratio of two numbers measured in the same run, beside the goal the project set for it.
 *
 * @param value the ratio, or null when one side was not measured (see {@code why})
 * @param goal the target from the issue, or null for a figure with no goal
 * @param atLeast whether the goal is a floor (true) or a ceiling (false)
 * @param met whether the value meets the goal; null when not measured
 * @param what what was divided by what
 * @param why why it is missing, or null
 */
record Ratio(Double value, Double goal, boolean atLeast, Boolean met, String what, String why) {
  static Ratio of(double numerator, double denominator, double goal, boolean atLeast, String what) {
    if (!(denominator > 0) || Double.isNaN(numerator)) {
      return missing(goal, atLeast, what, "the denominator was not measured");
    }
    double v = numerator / denominator;
    return new Ratio(v, goal, atLeast, atLeast ? v >= goal : v <= goal, what, null);
  }

  /** A measured figure reported beside the ratios, with no goal. */
  static Ratio figure(double value, String what) {
    return new Ratio(value, null, false, null, what, null);
  }

  static Ratio missing(Double goal, boolean atLeast, String what, String why) {
    return new Ratio(null, goal, atLeast, null, what, why);
  }
}
