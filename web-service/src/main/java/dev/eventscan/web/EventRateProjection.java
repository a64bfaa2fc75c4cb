package dev.eventscan.web;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;

/**
 * Counts events per {@value #BUCKET_SECONDS}-second bucket, per category and type, in the console's
 * own schema: the app's counts over time (the library keeps only totals). Buckets older than two
 * days are pruned now and then.
 */
final class EventRateProjection implements Projection {
  static final String NAME = "event-rates";
  static final int BUCKET_SECONDS = 10;
  private static final int PRUNE_EVERY = 10_000;

  private final String schema;
  private long projected;

  EventRateProjection(String schema) {
    this.schema = schema;
  }

  static Instant bucketOf(Instant at) {
    return Instant.ofEpochSecond(
        at.getEpochSecond() - Math.floorMod(at.getEpochSecond(), BUCKET_SECONDS));
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
    try (PreparedStatement upsert =
        transaction.prepareStatement(
            """
            INSERT INTO %s.event_rates (bucket, category, type, count) VALUES (?, ?, ?, 1)
            ON CONFLICT (bucket, category, type) DO UPDATE SET count = event_rates.count + 1
            """
                .formatted(schema))) {
      upsert.setTimestamp(1, Timestamp.from(bucketOf(event.recordedAt())));
      upsert.setString(2, event.category());
      upsert.setString(3, event.type());
      upsert.executeUpdate();
    }
    if (++projected % PRUNE_EVERY == 0) {
      try (Statement prune = transaction.createStatement()) {
        prune.executeUpdate(
            "DELETE FROM %s.event_rates WHERE bucket < now() - interval '2 days'"
                .formatted(schema));
      }
    }
  }

  @Override
  public void reset(Connection transaction) throws SQLException {
    try (Statement reset = transaction.createStatement()) {
      reset.execute("TRUNCATE %s.event_rates".formatted(schema));
    }
  }
}
