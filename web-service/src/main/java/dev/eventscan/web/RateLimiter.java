package dev.eventscan.web;

import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.scan.lifecycle.OneBatchAtATime;
import dev.eventscan.scan.lifecycle.OneBatchAtATime.Waiting;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * {@code perMinute} requests a minute per client, bursts up to that many, counted in PostgreSQL so
 * that the limit holds across every node on the database (a client spreading its requests over
 * nodes behind a load balancer gets no more). It is a token bucket kept as one timestamp per client
 * (GCRA): each request moves the client's "theoretical arrival time" {@code tat} one interval on; a
 * request that would move it more than a minute ahead is refused and changes nothing. On
 * PostgreSQL's clock, so the nodes' clocks do not matter; the requests that arrive while one
 * statement runs are counted together in the next, one UPSERT for them all.
 */
final class RateLimiter {
  /** Delete rows of idle clients every this many requests (their buckets are full anyway). */
  private static final long PRUNE_EVERY = 1024;

  private final DataSource dataSource;
  private final String schema;
  private final int perMinute;
  private final double intervalSeconds;
  private final AtomicLong requests = new AtomicLong();
  private final OneBatchAtATime<String, Long> counted = new OneBatchAtATime<>(this::count);

  RateLimiter(DataSource dataSource, String schema, int perMinute) {
    this.dataSource = dataSource;
    this.schema = schema;
    this.perMinute = perMinute;
    this.intervalSeconds = 60.0 / perMinute;
  }

  /** Creates or upgrades the table (Flyway, its own history table in the application schema). */
  static void migrate(DataSource dataSource, String schema) {
    Flyway.configure()
        .dataSource(dataSource)
        .schemas(schema)
        .defaultSchema(schema)
        .table("web_schema_history")
        .locations("classpath:db/web")
        .placeholders(Map.of("schema", schema))
        // The schema already holds the scan module's tables, under its own history table.
        .baselineOnMigrate(true)
        .baselineVersion("0")
        .load()
        .migrate();
  }

  /** 0 if allowed now, else how many seconds to wait. */
  long acquire(String client) {
    if (requests.incrementAndGet() % PRUNE_EVERY == 0) {
      prune();
    }
    return counted.submit("", client);
  }

  /**
   * Counts every request waiting, of all clients, in one statement: a client's requests take its
   * budget in their order, so each one is let through or refused exactly as if counted one by one.
   * One statement per batch instead of one per request, and one row update per client in it.
   */
  private void count(String key, List<Waiting<String, Long>> batch) {
    Map<String, Integer> wanted = new LinkedHashMap<>();
    batch.forEach(request -> wanted.merge(request.command, 1, Integer::sum));
    Map<String, Grant> grants = take(wanted);
    for (Waiting<String, Long> request : batch) {
      Grant grant = grants.get(request.command);
      request.result.complete(grant.granted-- > 0 ? 0L : Math.max(1, grant.waitSeconds));
    }
  }

  /** How many requests of a client were let through, and how long the rest must wait. */
  private static final class Grant {
    int granted;
    long waitSeconds;
  }

  private Map<String, Grant> take(Map<String, Integer> wanted) {
    return Jdbc.withConnection(
        dataSource,
        "rate limit",
        c -> {
          // GCRA for k requests at once: the bucket takes as many as fit, min(k, room / interval),
          // counted in whole microseconds as the intervals are, and moves tat on by that many.
          // A client refused outright keeps its tat. The count commits without waiting for the
          // disk: a client's requests update its one row, and holding that row through a WAL flush
          // made them wait for each other's flushes. A crash may forget the last moment's counts,
          // which lets a client only that far ahead.
          String fits =
              """
              least(excluded.granted,
                    floor(extract(epoch FROM now() + interval '1 minute' - greatest(r.tat, now()))
                          / extract(epoch FROM make_interval(secs => ?)))::int)
              """;
          try (PreparedStatement take =
              c.prepareStatement(
                  """
                  INSERT INTO %1$s.rate_limits AS r (client, per_minute, tat, granted)
                  SELECT q.client, ?, now() + make_interval(secs => ?) * least(q.wanted, ?),
                         least(q.wanted, ?)
                    FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed,
                         unnest(?::text[], ?::int[]) AS q(client, wanted)
                  ON CONFLICT (client, per_minute) DO UPDATE
                     SET tat = greatest(r.tat, now()) + make_interval(secs => ?) * %2$s,
                         granted = %2$s
                  RETURNING client, granted,
                            ceil(extract(epoch FROM tat + make_interval(secs => ?)
                                                    - now() - interval '1 minute'))
                  """
                      .formatted(schema, fits))) {
            take.setInt(1, perMinute);
            take.setDouble(2, intervalSeconds);
            take.setInt(3, perMinute); // a new client's full bucket holds perMinute requests
            take.setInt(4, perMinute);
            take.setArray(5, c.createArrayOf("text", wanted.keySet().toArray()));
            take.setArray(6, c.createArrayOf("int4", wanted.values().toArray()));
            for (int i = 7; i <= 10; i++) {
              take.setDouble(i, intervalSeconds);
            }
            Map<String, Grant> grants = new HashMap<>();
            try (ResultSet rows = take.executeQuery()) {
              while (rows.next()) {
                Grant grant = new Grant();
                grant.granted = rows.getInt(2);
                grant.waitSeconds = rows.getLong(3);
                grants.put(rows.getString(1), grant);
              }
            }
            return grants;
          }
        });
  }

  private void prune() {
    Jdbc.withConnection(
        dataSource,
        "prune rate limits",
        c -> {
          try (PreparedStatement delete =
              c.prepareStatement(
                  "DELETE FROM %s.rate_limits WHERE tat < now()".formatted(schema))) {
            return delete.executeUpdate();
          }
        });
  }
}
