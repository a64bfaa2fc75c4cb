package dev.eventscan.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class HistogramWindowTest {
  private static String scrape(long upTo10ms, long upTo1s, long total) {
    return """
        # TYPE sse_feed_lag_seconds histogram
        sse_feed_lag_seconds_bucket{le="0.001"} 0
        sse_feed_lag_seconds_bucket{le="0.01"} %d
        sse_feed_lag_seconds_bucket{le="1.0"} %d
        sse_feed_lag_seconds_bucket{le="+Inf"} %d
        sse_feed_lag_seconds_count %d
        sse_fan_out_seconds_bucket{le="+Inf"} 99
        """
        .formatted(upTo10ms, upTo1s, total, total);
  }

  @Test
  void a_window_leaves_out_what_was_recorded_before_it() {
    // 200 slow events in the warm-up, then 1,000 fast ones (between 1 and 10 ms) in the window.
    HistogramWindow before = HistogramWindow.scrape(scrape(0, 200, 200), "sse_feed_lag_seconds");
    HistogramWindow after =
        HistogramWindow.scrape(scrape(1_000, 1_200, 1_200), "sse_feed_lag_seconds");

    HistogramWindow window = after.since(before);

    assertThat(window.count()).isEqualTo(1_000);
    assertThat(window.quantileMs(0.99)).isCloseTo(9.91, within(0.01));
    assertThat(window.quantileMs(0.5)).isCloseTo(5.5, within(0.01));
    assertThat(after.quantileMs(0.99)).isGreaterThan(900); // the warm-up dominates without it
  }

  @Test
  void beyond_the_largest_bound_or_with_nothing_recorded_it_says_what_it_knows() {
    HistogramWindow slow = HistogramWindow.scrape(scrape(0, 0, 10), "sse_feed_lag_seconds");
    assertThat(slow.quantileMs(0.5)).isEqualTo(1_000);
    assertThat(slow.since(slow).quantileMs(0.99)).isNaN();
    assertThat(HistogramWindow.scrape("", "sse_feed_lag_seconds").count()).isZero();
  }
}
