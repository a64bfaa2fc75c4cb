package dev.eventscan.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A timer's distribution over one window, from two scrapes of its Prometheus histogram buckets
 * ({@code <name>_bucket{le="..."}}, cumulative counts): the warm-up before the window, and whatever
 * else the service's rolling percentiles still hold, drop out.
 */
record HistogramWindow(TreeMap<Double, Double> counts) {
  /** The buckets of {@code timer} in {@code metrics} (Prometheus text), by upper bound in s. */
  static HistogramWindow scrape(String metrics, String timer) {
    TreeMap<Double, Double> counts = new TreeMap<>();
    Matcher m =
        Pattern.compile("(?m)^" + Pattern.quote(timer) + "_bucket\\{le=\"([^\"]+)\"\\} (\\S+)")
            .matcher(metrics);
    while (m.find()) {
      double le =
          m.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(1));
      counts.put(le, Double.parseDouble(m.group(2)));
    }
    return new HistogramWindow(counts);
  }

  /** What was recorded after {@code before} (an earlier scrape of the same timer). */
  HistogramWindow since(HistogramWindow before) {
    TreeMap<Double, Double> delta = new TreeMap<>();
    counts.forEach((le, count) -> delta.put(le, count - before.counts.getOrDefault(le, 0.0)));
    return new HistogramWindow(delta);
  }

  double count() {
    return counts.isEmpty() ? 0 : counts.lastEntry().getValue();
  }

  /**
   * The {@code q} quantile in ms, interpolated linearly inside its bucket (the buckets grow by
   * about a tenth each, so that is the resolution); NaN when nothing was recorded.
   */
  double quantileMs(double q) {
    double total = count();
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lower = 0;
    double below = 0;
    for (Map.Entry<Double, Double> bucket : counts.entrySet()) {
      double upper = bucket.getKey();
      double cumulative = bucket.getValue();
      if (cumulative >= rank && cumulative > below) {
        if (Double.isInfinite(upper)) {
          return lower * 1000; // beyond the largest bound: that bound is all that is known
        }
        return (lower + (upper - lower) * (rank - below) / (cumulative - below)) * 1000;
      }
      lower = upper;
      below = cumulative;
    }
    return lower * 1000;
  }
}
