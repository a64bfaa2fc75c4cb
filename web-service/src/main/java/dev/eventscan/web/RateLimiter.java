package dev.eventscan.web;

import dev.eventscan.eventstore.jdbc.Jdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * {@code perMinute} requests a minute per client, bursts up to that many, counted in PostgreSQL so
 * that the limit holds across every node on the database (a client spreading its requests over
 * nodes behind a load balancer gets no more). It is a token bucket kept as one timestamp per client
 * (GCRA): each request moves the client's "theoretical arrival time" {@code tat} one interval on; a
 * request that would move it more than a minute ahead is refused and changes nothing. One UPSERT
 * per request, on PostgreSQL's clock, so the nodes' clocks do not matter.
 */
final class RateLimiter {
  /** Delete rows of idle clients every this many requests (their buckets are full anyway). */
  private static final long PRUNE_EVERY = 1024;

  private final DataSource dataSource;
  private final String schema;
  private final int perMinute;
  private final double intervalSeconds;
  private final AtomicLong requests = new AtomicLong();

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
    return Jdbc.withConnection(
        dataSource,
        "rate limit",
        c -> {
          // A refused request updates nothing and returns no row. The count commits without
          // waiting for the disk: every request of a client updates its one row, and holding that
          // row through a WAL flush made a client's requests wait for each other's flushes. A
          // crash may forget the last moment's counts, which lets a client only that far ahead.
          try (PreparedStatement take =
              c.prepareStatement(
                  """
                  INSERT INTO %s.rate_limits AS r (client, per_minute, tat)
                  SELECT ?, ?, now() + make_interval(secs => ?)
                    FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed
                  ON CONFLICT (client, per_minute) DO UPDATE
                     SET tat = greatest(r.tat, now()) + make_interval(secs => ?)
                   WHERE greatest(r.tat, now()) + make_interval(secs => ?)
                         <= now() + interval '1 minute'
                  RETURNING 1
                  """
                      .formatted(schema))) {
            take.setString(1, client);
            take.setInt(2, perMinute);
            for (int i = 3; i <= 5; i++) {
              take.setDouble(i, intervalSeconds);
            }
            try (ResultSet taken = take.executeQuery()) {
              if (taken.next()) {
                return 0L;
              }
            }
          }
          return secondsUntilAllowed(c, client);
        });
  }

  private long secondsUntilAllowed(java.sql.Connection c, String client)
      throws java.sql.SQLException {
    try (PreparedStatement wait =
        c.prepareStatement(
            """
            SELECT ceil(extract(epoch FROM tat + make_interval(secs => ?)
                                - now() - interval '1 minute'))
              FROM %s.rate_limits
             WHERE client = ? AND per_minute = ?
            """
                .formatted(schema))) {
      wait.setDouble(1, intervalSeconds);
      wait.setString(2, client);
      wait.setInt(3, perMinute);
      try (ResultSet rows = wait.executeQuery()) {
        return rows.next() ? Math.max(1, rows.getLong(1)) : 1;
      }
    }
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
