package dev.eventscan.eventstore.statistics;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

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

  private final String schema;
  private final String countSql;

  public StatisticsProjection(String schema) {
    this.schema = schema;
    this.countSql =
        """
        WITH by_type AS (
               INSERT INTO %1$s.event_counts_by_type (type, count) VALUES (?, 1)
               ON CONFLICT (type) DO UPDATE SET count = event_counts_by_type.count + 1),
             by_category AS (
               INSERT INTO %1$s.event_counts_by_category (category, count) VALUES (?, 1)
               ON CONFLICT (category) DO UPDATE SET count = event_counts_by_category.count + 1)
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
   * One statement per event: the three counters are upserted by one statement (data-modifying
   * CTEs), because this runs inside the projection's transaction, and every round trip while it
   * holds a transaction id holds back every global reader (live feeds, other subscriptions).
   */
  @Override
  public void project(RecordedEvent event, Connection transaction) throws SQLException {
    try (PreparedStatement count = transaction.prepareStatement(countSql)) {
      count.setString(1, event.type());
      count.setString(2, event.category());
      count.setLong(3, event.streamVersion());
      count.executeUpdate();
    }
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
