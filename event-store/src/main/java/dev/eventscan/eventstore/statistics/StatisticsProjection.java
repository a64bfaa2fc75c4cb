package dev.eventscan.eventstore.statistics;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.SqlWrites;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Keeps the counters monitoring reads, so no request ever counts the log: total events, streams
 * (counted at their first event), events per type and per category, in the store's schema ({@code
 * event_totals}, {@code event_counts_by_type}, {@code event_counts_by_category}). Register it with
 * {@code Projections} like any projection; its counts are exact up to its checkpoint. Counts over
 * time (rates, "today") depend on what an application charts and in which time zone: keep them in
 * an application projection of its own.
 */
public final class StatisticsProjection implements Projection {
  public static final String NAME = "event-statistics";
  private static final Duration BATCH_INTERVAL = Duration.ofMillis(250);

  private final String schema;
  private final String countSql;

  public StatisticsProjection(String schema) {
    this.schema = schema;
    this.countSql =
        """
        WITH by_type AS (
               INSERT INTO %1$s.event_counts_by_type (type, count)
               SELECT * FROM unnest(?::text[], ?::bigint[])
               ON CONFLICT (type) DO UPDATE SET count = event_counts_by_type.count + excluded.count),
             by_category AS (
               INSERT INTO %1$s.event_counts_by_category (category, count)
               SELECT * FROM unnest(?::text[], ?::bigint[])
               ON CONFLICT (category)
               DO UPDATE SET count = event_counts_by_category.count + excluded.count)
        UPDATE %1$s.event_totals SET events = events + ?, streams = streams + ? WHERE id = 1
        """
            .formatted(schema);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public EventFilter filter() {
    return EventFilter.all();
  }

  /** Monitoring reads counts a quarter of a second old, and live readers wait less behind it. */
  @Override
  public Duration batchInterval() {
    return BATCH_INTERVAL;
  }

  @Override
  public void project(RecordedEvent event, Connection transaction) throws SQLException {
    writesFor(List.of(event), transaction).execute(transaction);
  }

  /**
   * Counts in memory, then one statement for the batch (data-modifying CTEs), which the library
   * sends with the checkpoint's move and the COMMIT: the transaction holds back every global reader
   * (live feeds, other subscriptions) only while PostgreSQL runs it. Keys are sorted so that two
   * transactions (a rebuild racing a stale worker) lock counter rows in the same order.
   */
  @Override
  public SqlWrites writesFor(List<RecordedEvent> events, Connection transaction) {
    Map<String, Long> byType = new TreeMap<>();
    Map<String, Long> byCategory = new TreeMap<>();
    long newStreams = 0;
    for (RecordedEvent event : events) {
      byType.merge(event.type(), 1L, Long::sum);
      byCategory.merge(event.category(), 1L, Long::sum);
      if (event.streamVersion() == 1) {
        newStreams++;
      }
    }
    return SqlWrites.of(
        countSql,
        byType.keySet().toArray(String[]::new),
        byType.values().toArray(Long[]::new),
        byCategory.keySet().toArray(String[]::new),
        byCategory.values().toArray(Long[]::new),
        (long) events.size(),
        newStreams);
  }

  @Override
  public void reset(Connection transaction) throws SQLException {
    try (Statement reset = transaction.createStatement()) {
      reset.execute(
          "TRUNCATE %1$s.event_counts_by_type, %1$s.event_counts_by_category".formatted(schema));
      reset.execute("UPDATE %s.event_totals SET events = 0, streams = 0".formatted(schema));
    }
  }
}
