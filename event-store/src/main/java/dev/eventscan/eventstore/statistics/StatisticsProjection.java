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
  private long projected;

  public StatisticsProjection(String schema) {
    this.schema = schema;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public EventFilter filter() {
    return EventFilter.all();
  }

  @Override
  public void project(RecordedEvent event, Connection transaction) throws SQLException {
    increment(transaction, "event_counts_by_type", "type", event.type());
    increment(transaction, "event_counts_by_category", "category", event.category());
    try (PreparedStatement minute =
        transaction.prepareStatement(
            """
            INSERT INTO %s.event_counts_by_minute (minute, count) VALUES (?, 1)
            ON CONFLICT (minute) DO UPDATE SET count = event_counts_by_minute.count + 1
            """
                .formatted(schema))) {
      minute.setTimestamp(1, Timestamp.from(event.recordedAt().truncatedTo(ChronoUnit.MINUTES)));
      minute.executeUpdate();
    }
    try (PreparedStatement totals =
        transaction.prepareStatement(
            """
            UPDATE %s.event_totals
               SET events = events + 1, streams = streams + CASE WHEN ? = 1 THEN 1 ELSE 0 END
             WHERE id = 1
            """
                .formatted(schema))) {
      totals.setLong(1, event.streamVersion());
      totals.executeUpdate();
    }
    if (++projected % 10_000 == 0) {
      try (Statement prune = transaction.createStatement()) {
        prune.executeUpdate(
            "DELETE FROM %s.event_counts_by_minute WHERE minute < now() - interval '2 days'"
                .formatted(schema));
      }
    }
  }

  private void increment(Connection c, String table, String column, String key)
      throws SQLException {
    try (PreparedStatement upsert =
        c.prepareStatement(
            "INSERT INTO %1$s.%2$s (%3$s, count) VALUES (?, 1) ON CONFLICT (%3$s) DO UPDATE SET count = %2$s.count + 1"
                .formatted(schema, table, column))) {
      upsert.setString(1, key);
      upsert.executeUpdate();
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
