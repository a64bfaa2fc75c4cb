package dev.eventscan.eventstore.statistics;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.temporal.ChronoUnit;

/**
 * Keeps the counters monitoring reads, so no request ever counts the log: totals, per type, per
 * category and per minute (minutes older than two days are pruned). Register it with {@code
 * Projections} like any projection; its counts are exact up to its checkpoint.
 */
public final class StatisticsProjection implements Projection {
  public static final String NAME = "event-statistics";

  private final String schema;
  private final String countSql;
  private long projected;

  public StatisticsProjection(String schema) {
    this.schema = schema;
    this.countSql =
        """
        WITH by_type AS (
               INSERT INTO %1$s.event_counts_by_type (type, count) VALUES (?, 1)
               ON CONFLICT (type) DO UPDATE SET count = event_counts_by_type.count + 1),
             by_category AS (
               INSERT INTO %1$s.event_counts_by_category (category, count) VALUES (?, 1)
               ON CONFLICT (category) DO UPDATE SET count = event_counts_by_category.count + 1),
             by_minute AS (
               INSERT INTO %1$s.event_counts_by_minute (minute, count) VALUES (?, 1)
               ON CONFLICT (minute) DO UPDATE SET count = event_counts_by_minute.count + 1)
        UPDATE %1$s.event_totals
           SET events = events + 1, streams = streams + CASE WHEN ? = 1 THEN 1 ELSE 0 END
         WHERE id = 1
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

  /**
   * One statement per event: the four counters are upserted by one statement (data-modifying CTEs),
   * because this runs inside the projection's transaction, and every round trip while it holds a
   * transaction id holds back every global reader (live feeds, other subscriptions).
   */
  @Override
  public void project(RecordedEvent event, Connection transaction) throws SQLException {
    try (PreparedStatement count = transaction.prepareStatement(countSql)) {
      count.setString(1, event.type());
      count.setString(2, event.category());
      count.setTimestamp(3, Timestamp.from(event.recordedAt().truncatedTo(ChronoUnit.MINUTES)));
      count.setLong(4, event.streamVersion());
      count.executeUpdate();
    }
    if (++projected % 10_000 == 0) {
      try (Statement prune = transaction.createStatement()) {
        prune.executeUpdate(
            "DELETE FROM %s.event_counts_by_minute WHERE minute < now() - interval '2 days'"
                .formatted(schema));
      }
    }
  }

  @Override
  public void reset(Connection transaction) throws SQLException {
    try (Statement reset = transaction.createStatement()) {
      reset.execute(
          "TRUNCATE %1$s.event_counts_by_type, %1$s.event_counts_by_category, %1$s.event_counts_by_minute"
              .formatted(schema));
      reset.execute("UPDATE %s.event_totals SET events = 0, streams = 0".formatted(schema));
    }
  }
}
