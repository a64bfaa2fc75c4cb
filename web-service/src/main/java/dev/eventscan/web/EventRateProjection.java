package dev.eventscan.web;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts events per {@value #BUCKET_SECONDS}-second bucket, per category and type, in the console's
 * own schema: the app's counts over time (the library keeps only totals). Buckets older than two
 * days are pruned now and then.
 */
final class EventRateProjection implements Projection {
  static final String NAME = "event-rates";
  static final int BUCKET_SECONDS = 10;
  private static final int PRUNE_EVERY = 10_000;
  private static final Duration BATCH_INTERVAL = Duration.ofMillis(250);

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

  /** Its 10-second buckets need no live counts, and live readers wait less behind it. */
  @Override
  public Duration batchInterval() {
    return BATCH_INTERVAL;
  }

  @Override
  public void project(RecordedEvent event, Connection transaction) throws SQLException {
    projectBatch(List.of(event), transaction);
  }

  /**
   * Counts in memory, then one upsert for the batch: the projection's transaction holds back every
   * global reader while it runs. Rows are sorted so that two transactions lock them in one order.
   */
  @Override
  public void projectBatch(List<RecordedEvent> events, Connection transaction) throws SQLException {
    Map<List<String>, Long> counts = new TreeMap<>(Comparator.comparing(Object::toString));
    for (RecordedEvent event : events) {
      List<String> key =
          List.of(bucketOf(event.recordedAt()).toString(), event.category(), event.type());
      counts.merge(key, 1L, Long::sum);
    }
    try (PreparedStatement upsert =
        transaction.prepareStatement(
            """
            INSERT INTO %s.event_rates (bucket, category, type, count)
            SELECT * FROM unnest(?::timestamptz[], ?::text[], ?::text[], ?::bigint[])
            ON CONFLICT (bucket, category, type)
            DO UPDATE SET count = event_rates.count + excluded.count
            """
                .formatted(schema))) {
      upsert.setArray(1, column(transaction, "text", counts.keySet(), 0));
      upsert.setArray(2, column(transaction, "text", counts.keySet(), 1));
      upsert.setArray(3, column(transaction, "text", counts.keySet(), 2));
      upsert.setArray(4, transaction.createArrayOf("bigint", counts.values().toArray()));
      upsert.executeUpdate();
    }
    projected += events.size();
    if (projected >= PRUNE_EVERY) {
      projected = 0;
      try (Statement prune = transaction.createStatement()) {
        prune.executeUpdate(
            "DELETE FROM %s.event_rates WHERE bucket < now() - interval '2 days'"
                .formatted(schema));
      }
    }
  }

  private static Array column(
      Connection transaction, String type, Collection<List<String>> keys, int index)
      throws SQLException {
    return transaction.createArrayOf(type, keys.stream().map(key -> key.get(index)).toArray());
  }

  @Override
  public void reset(Connection transaction) throws SQLException {
    try (Statement reset = transaction.createStatement()) {
      reset.execute("TRUNCATE %s.event_rates".formatted(schema));
    }
  }
}
