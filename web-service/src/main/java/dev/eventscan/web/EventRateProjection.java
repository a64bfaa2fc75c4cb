package dev.eventscan.web;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.projection.Projection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.SqlWrites;
import java.sql.Connection;
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
    writesFor(List.of(event), transaction).execute(transaction);
  }

  /**
   * Counts in memory, then one upsert for the batch, which the library sends with the checkpoint's
   * move and the COMMIT: the transaction holds back every global reader only while PostgreSQL runs
   * it. Rows are sorted so that two transactions lock them in one order.
   */
  @Override
  public SqlWrites writesFor(List<RecordedEvent> events, Connection transaction) {
    Map<List<String>, Long> counts = new TreeMap<>(Comparator.comparing(Object::toString));
    for (RecordedEvent event : events) {
      List<String> key =
          List.of(bucketOf(event.recordedAt()).toString(), event.category(), event.type());
      counts.merge(key, 1L, Long::sum);
    }
    SqlWrites writes =
        SqlWrites.of(
            """
            INSERT INTO %s.event_rates (bucket, category, type, count)
            SELECT * FROM unnest(?::timestamptz[], ?::text[], ?::text[], ?::bigint[])
            ON CONFLICT (bucket, category, type)
            DO UPDATE SET count = event_rates.count + excluded.count"""
                .formatted(schema),
            column(counts.keySet(), 0),
            column(counts.keySet(), 1),
            column(counts.keySet(), 2),
            counts.values().toArray(Long[]::new));
    projected += events.size();
    if (projected >= PRUNE_EVERY) {
      projected = 0;
      writes =
          writes.and(
              "DELETE FROM %s.event_rates WHERE bucket < now() - interval '2 days'"
                  .formatted(schema));
    }
    return writes;
  }

  private static String[] column(Collection<List<String>> keys, int index) {
    return keys.stream().map(key -> key.get(index)).toArray(String[]::new);
  }

  @Override
  public void reset(Connection transaction) throws SQLException {
    try (Statement reset = transaction.createStatement()) {
      reset.execute("TRUNCATE %s.event_rates".formatted(schema));
    }
  }
}
