package dev.eventscan.web;

import dev.eventscan.eventstore.jdbc.Jdbc;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/** Reads the counts {@link EventRateProjection} keeps: rate series, per-minute, per-hour, since. */
final class EventRates {
  /** A count for one bucket of time. */
  record Bucket(Instant start, long count) {}

  /**
   * Events per bucket, oldest first, zero-filled: in total and per category or type.
   *
   * @param series per name, counts aligned with {@code starts}
   */
  record Series(
      int bucketSeconds, List<Instant> starts, long[] total, Map<String, long[]> series) {}

  private final DataSource dataSource;
  private final String schema;

  EventRates(DataSource dataSource, String schema) {
    this.dataSource = dataSource;
    this.schema = schema;
  }

  /** Creates or upgrades the console's tables (Flyway, own schema and history table). */
  static void migrate(DataSource dataSource, String schema) {
    Flyway.configure()
        .dataSource(dataSource)
        .schemas(schema)
        .defaultSchema(schema)
        .table("console_schema_history")
        .locations("classpath:db/console")
        .placeholders(Map.of("schema", schema))
        .load()
        .migrate();
  }

  /** The last {@code window} in buckets of {@link EventRateProjection#BUCKET_SECONDS}. */
  Series series(Duration window, boolean byType, Instant now) {
    int seconds = EventRateProjection.BUCKET_SECONDS;
    Instant last = EventRateProjection.bucketOf(now);
    int count = (int) Math.max(1, window.toSeconds() / seconds);
    Instant first = last.minusSeconds((long) (count - 1) * seconds);
    List<Instant> starts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      starts.add(first.plusSeconds((long) i * seconds));
    }
    String key = byType ? "type" : "category";
    long[] total = new long[count];
    Map<String, long[]> series = new LinkedHashMap<>();
    Jdbc.withConnection(
        dataSource,
        "event rates",
        c ->
            Jdbc.query(
                c,
                "SELECT bucket, %s, sum(count) FROM %s.event_rates WHERE bucket >= ? GROUP BY 1, 2"
                    .formatted(key, schema),
                s -> s.setTimestamp(1, Timestamp.from(first)),
                row -> {
                  int index =
                      (int)
                          (Duration.between(first, row.getTimestamp(1).toInstant()).toSeconds()
                              / seconds);
                  if (index >= 0 && index < count) {
                    long n = row.getLong(3);
                    total[index] += n;
                    series.computeIfAbsent(row.getString(2), name -> new long[count])[index] += n;
                  }
                  return null;
                }));
    return new Series(seconds, starts, total, series);
  }

  /** Events recorded at or after {@code since} (exact when it falls on a bucket boundary). */
  long countSince(Instant since) {
    return Jdbc.withConnection(
        dataSource,
        "events since",
        c ->
            Jdbc.query(
                    c,
                    "SELECT coalesce(sum(count), 0) FROM %s.event_rates WHERE bucket >= ?"
                        .formatted(schema),
                    s -> s.setTimestamp(1, Timestamp.from(EventRateProjection.bucketOf(since))),
                    row -> row.getLong(1))
                .get(0));
  }

  /** {@code count} buckets of {@code unit} (minutes or hours) up to now, oldest first. */
  List<Bucket> per(ChronoUnit unit, int count, Instant now) {
    Instant first = now.truncatedTo(unit).minus(count - 1L, unit);
    Map<Instant, Long> found = new HashMap<>();
    Jdbc.withConnection(
        dataSource,
        "event counts per " + unit,
        c ->
            Jdbc.query(
                c,
                "SELECT date_trunc(?, bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', sum(count)"
                    + " FROM %s.event_rates WHERE bucket >= ?".formatted(schema)
                    + " GROUP BY 1",
                s -> {
                  s.setString(1, unit == ChronoUnit.HOURS ? "hour" : "minute");
                  s.setTimestamp(2, Timestamp.from(first));
                },
                row -> found.put(row.getTimestamp(1).toInstant(), row.getLong(2))));
    List<Bucket> buckets = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Instant start = first.plus(i, unit);
      buckets.add(new Bucket(start, Objects.requireNonNullElse(found.get(start), 0L)));
    }
    return buckets;
  }
}
