package dev.eventscan.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * The same work done through our library and through the raw limit, runs interleaved (ours, limit,
 * ours, ...) after one warm-up each, so machine noise hits both; medians of three.
 */
abstract class RatioScenario implements Scenario {
  static final int RUNS = 3;

  /** Our library: events (or other units) per second. */
  abstract double runOurs(BenchmarkDatabase database) throws Exception;

  /** The limit: events (or other units) per second. */
  abstract double runLimit(BenchmarkDatabase database) throws Exception;

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    runOurs(database); // warm-up: JIT, caches, connection pools
    runLimit(database);
    double[] ours = new double[RUNS];
    double[] limit = new double[RUNS];
    for (int run = 0; run < RUNS; run++) {
      ours[run] = runOurs(database);
      limit[run] = runLimit(database);
    }
    System.out.printf(
        Locale.ROOT, "# %s runs: ours=%s limit=%s%n", name(), format(ours), format(limit));
    double oursMedian = median(ours);
    double limitMedian = median(limit);
    return String.format(
        Locale.ROOT,
        "ours=%.0f limit=%.0f ratio=%.2f",
        oursMedian,
        limitMedian,
        oursMedian / limitMedian);
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  private static String format(double[] values) {
    return Arrays.stream(values)
        .mapToObj(v -> String.format(Locale.ROOT, "%.0f", v))
        .reduce((a, b) -> a + "," + b)
        .orElse("");
  }
}
