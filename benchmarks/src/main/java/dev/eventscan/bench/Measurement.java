package dev.eventscan.bench;

/**
 * One timed run: units per second and, where each unit was timed (appends), its latency percentiles
 * in milliseconds ({@code NaN} where not measured).
 */
record Measurement(double perSecond, double p50Millis, double p99Millis) {
  /** A run that measured only the rate (a read of the whole log, a fixed amount of work). */
  static Measurement rate(double perSecond) {
    return new Measurement(perSecond, Double.NaN, Double.NaN);
  }

  /** The value at fraction {@code p} of sorted values (NaN sorts last). */
  static double percentile(double[] sorted, double p) {
    return sorted.length == 0
        ? Double.NaN
        : sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  }

  boolean hasLatency() {
    return !Double.isNaN(p99Millis);
  }
}
