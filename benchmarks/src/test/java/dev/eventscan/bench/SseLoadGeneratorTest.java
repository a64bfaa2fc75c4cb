package dev.eventscan.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The generator's per-second timeline of the worst delivery. */
class SseLoadGeneratorTest {
  /**
   * Eight writers return their appends out of order, so the last append is not the latest: the
   * first version sized the timeline by the last one and failed (a negative size, or an index out
   * of bounds).
   */
  @Test
  void appends_returning_out_of_order_are_binned_by_the_second_they_returned_in() {
    long start = 1_000_000_000L;
    long[] appendedAt = {start + 2_500_000, start, start + 1_200_000, start + 100_000};
    int[] ns = {0, 1, 2, 3, 1};
    long[] ats = {
      appendedAt[0] + 7_000,
      appendedAt[1] + 3_000,
      appendedAt[2] + 40_000,
      appendedAt[3] + 9_000,
      appendedAt[1] + 5_000
    };

    String line = SseLoadGenerator.timeline(appendedAt, List.of(ns), List.of(ats));

    assertThat(line).isEqualTo("# worst delivery per second of appends (ms): 9 40 7");
  }

  @Test
  void deliveries_of_events_not_measured_are_left_out() {
    long[] appendedAt = {5_000_000L};
    String line =
        SseLoadGenerator.timeline(
            appendedAt,
            List.of(new int[] {-1, 0, 3}),
            List.of(new long[] {9_999_999L, 5_002_000L, 9_999_999L}));
    assertThat(line).isEqualTo("# worst delivery per second of appends (ms): 2");
  }
}
