package dev.eventscan.eventstore.statistics;

import dev.eventscan.eventstore.statistics.Overview.Count;
import java.time.Instant;
import java.util.List;

/**
 * Counts for charts, from the statistics projection's counters.
 *
 * @param perMinuteLastHour 60 buckets, oldest first, zero-filled
 * @param perHourLastDay 24 buckets, oldest first, zero-filled
 */
public record Statistics(
    List<Count> byType,
    List<Count> byCategory,
    List<Bucket> perMinuteLastHour,
    List<Bucket> perHourLastDay) {

  public record Bucket(Instant start, long count) {}
}
