package dev.eventscan.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.NotifyMode;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.live.LiveSubscription;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.MetadataJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Where the time of a single-event append goes: the limit's INSERT, then one of our costs added at
 * a time (RETURNING the position, the exact-version existence probe, borrowing the connection from
 * the pool per append, the whole library call without the notifier, with it, and with it while
 * another store listens, so that it sends its NOTIFYs). Commits do not wait for the disk here
 * ({@code synchronous_commit=off} on every connection), so the CPU and round-trip costs that a
 * durable commit hides are visible. Interleaved, medians of three; rates are appends per second.
 */
final class AppendBreakdownScenario implements Scenario {
  /** A copy of the library's hot-path statement for {@code exactly(n)}, one event, n > 0. */
  private static final String GUARDED_INSERT =
      """
      INSERT INTO event_store.events (event_id, stream_id, stream_version, type, data, metadata)
      SELECT u.event_id, ?, ? + u.ord, u.type, u.data::jsonb, u.metadata::jsonb
        FROM (VALUES (?::uuid, ?::text, ?::text, ?::text, 1)) AS u(event_id, type, data, metadata, ord)
       WHERE EXISTS (SELECT 1 FROM event_store.events e
                      WHERE e.stream_id = ? AND e.stream_version = ?
                        AND e.type <> '$stream-deleted')
       ORDER BY u.ord
      RETURNING stream_version, transaction_id::text AS transaction_id_text, id
      """;

  /**
   * A copy of the library's statement for {@code exactly(n)}, one event, n > 0, since issue 11: the
   * stream's head read in the statement, checked against the expectation's range.
   */
  private static final String HEAD_GUARDED_INSERT =
      """
      INSERT INTO event_store.events (event_id, stream_id, stream_version, type, data, metadata)
      SELECT u.event_id, u.stream_id, coalesce(h.version, 0) + u.ord, u.type, u.data::jsonb,
             u.metadata::jsonb
        FROM (VALUES (?::text, ?::bigint, ?::bigint, ?::uuid, 1, ?::text, ?::text, ?::text, 1))
             AS u(stream_id, lowest, highest, event_id, ord, type, data, metadata, n)
        LEFT JOIN LATERAL (SELECT e.stream_version AS version, e.type = '$stream-deleted' AS deleted
                             FROM event_store.events e
                            WHERE e.stream_id = u.stream_id
                            ORDER BY e.stream_version DESC
                            LIMIT 1) h ON true
       WHERE NOT coalesce(h.deleted, false)
         AND coalesce(h.version, 0) BETWEEN u.lowest AND u.highest
       ORDER BY u.n
      RETURNING stream_id, stream_version, transaction_id::text AS transaction_id_text, id, false
      """;

  /**
   * A copy of the library's statement for one event to a stream that must exist ({@code
   * exactly(n)}, n > 0, {@code streamExists()}) since stop 24: the head row is the only source row.
   */
  private static final String HEAD_ROW_GUARDED_INSERT =
      """
      INSERT INTO event_store.events (event_id, stream_id, stream_version, type, data, metadata)
      SELECT ?, h.stream_id, h.version + 1, ?, ?::jsonb, ?::jsonb
        FROM (SELECT e.stream_id, e.stream_version AS version, e.type = '$stream-deleted' AS deleted
                FROM event_store.events e
               WHERE e.stream_id = ?
               ORDER BY e.stream_version DESC
               LIMIT 1) h
       WHERE NOT h.deleted
         AND h.version BETWEEN ? AND ?
      RETURNING stream_id, stream_version, transaction_id::text AS transaction_id_text, id, false
      """;

  private static final String RETURNING_INSERT =
      """
      INSERT INTO limit_jdbc.events (event_id, stream_id, stream_version, type, data, metadata)
      VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb)
      RETURNING stream_version, transaction_id::text AS transaction_id_text, id
      """;

  private final int writers;
  private final Duration runTime;

  AppendBreakdownScenario(int writers, Duration runTime) {
    this.writers = writers;
    this.runTime = runTime;
  }

  @Override
  public String name() {
    return "append-breakdown-" + writers + "w";
  }

  @FunctionalInterface
  private interface Step {
    Measurement run() throws Exception;
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    try (HikariDataSource relaxed = relaxedPool(database.jdbcUrl());
        EventStore silent =
            EventStore.builder(relaxed).migrate(false).notifyMode(NotifyMode.NONE).build();
        EventStore notifying =
            EventStore.builder(relaxed)
                .migrate(false)
                .notifyMode(NotifyMode.AFTER_COMMIT)
                .build()) {
      Map<String, Step> steps = new LinkedHashMap<>();
      steps.put("limit", () -> raw(relaxed, false, Payloads.LIMIT_INSERT));
      steps.put("returning", () -> raw(relaxed, false, RETURNING_INSERT));
      steps.put("guard", () -> raw(relaxed, false, GUARDED_INSERT));
      steps.put("head_guard", () -> raw(relaxed, false, HEAD_GUARDED_INSERT));
      steps.put("head_row_guard", () -> raw(relaxed, false, HEAD_ROW_GUARDED_INSERT));
      steps.put("guard_pool", () -> raw(relaxed, true, GUARDED_INSERT));
      steps.put("ours_nonotify", () -> ours(silent));
      steps.put("ours", () -> ours(notifying)); // nobody else listens: no hints are sent
      steps.put("ours_hinting", () -> oursWhileAnotherStoreListens(notifying, relaxed));
      for (Step step : steps.values()) {
        step.run();
      }
      Map<String, List<Double>> rates = new LinkedHashMap<>();
      for (int run = 0; run < RatioScenario.RUNS; run++) {
        for (Map.Entry<String, Step> step : steps.entrySet()) {
          rates
              .computeIfAbsent(step.getKey(), k -> new ArrayList<>())
              .add(step.getValue().run().perSecond());
        }
      }
      StringJoiner all = new StringJoiner(" ", "# " + name() + " runs/s: ", "");
      StringJoiner medians = new StringJoiner(" ", "synchronous_commit=off ", "");
      rates.forEach(
          (name, values) -> {
            StringJoiner runs = new StringJoiner(",");
            values.forEach(v -> runs.add(String.format(Locale.ROOT, "%.0f", v)));
            all.add(name + "=" + runs);
            medians.add(
                String.format(
                    Locale.ROOT,
                    "%s=%.0f",
                    name,
                    RatioScenario.median(values.stream().mapToDouble(d -> d).toArray())));
          });
      System.out.println(all);
      return medians.toString();
    }
  }

  private static HikariDataSource relaxedPool(String jdbcUrl) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setUsername("postgres");
    config.setMaximumPoolSize(BenchmarkDatabase.POOL_SIZE);
    config.setMinimumIdle(BenchmarkDatabase.POOL_SIZE);
    config.setPoolName("relaxed");
    config.setConnectionInitSql("SET synchronous_commit = off");
    return new HikariDataSource(config);
  }

  private Measurement ours(EventStore store) throws Exception {
    return AppendSingleScenario.appendSingles(store, writers, runTime);
  }

  /**
   * Ours while another process's store listens, so that hints go out: a second store on the pool
   * with a live subscription that wants none of the events (its feed still reads at every hint, as
   * a listening process does).
   */
  private Measurement oursWhileAnotherStoreListens(EventStore store, DataSource pool)
      throws Exception {
    try (EventStore otherProcess = EventStore.builder(pool).migrate(false).build();
        LiveSubscription listening =
            otherProcess
                .live()
                .subscribeFromNow(
                    EventFilter.categories("nobody" + UUID.randomUUID().toString().substring(0, 8)),
                    event -> {})) {
      return ours(store);
    }
  }

  /**
   * One statement per append on a raw connection: {@code pooled} borrows it from the pool for each
   * append, as the library does. The guarded statement writes to our table, so each writer first
   * appends version 1 through the library's table directly.
   */
  private Measurement raw(DataSource pool, boolean pooled, String sql) throws Exception {
    boolean guarded =
        sql == GUARDED_INSERT || sql == HEAD_GUARDED_INSERT || sql == HEAD_ROW_GUARDED_INSERT;
    return Throughput.measure(
        writers,
        runTime,
        thread -> {
          String streamId = "bench-" + UUID.randomUUID();
          Connection held = pooled ? null : pool.getConnection();
          PreparedStatement heldStatement = pooled ? null : held.prepareStatement(sql);
          if (guarded) {
            try (Connection c = pool.getConnection();
                PreparedStatement first =
                    c.prepareStatement(
                        Payloads.LIMIT_INSERT.replace("limit_jdbc.events", "event_store.events"))) {
              Payloads.bindLimitRow(first, streamId, 1);
              first.executeUpdate();
            }
          }
          return new Throughput.Worker() {
            @Override
            public int runOnce(long iteration) throws Exception {
              long version = iteration + 1; // guarded: the expected version, 1 appended above
              if (pooled) {
                try (Connection c = pool.getConnection();
                    PreparedStatement s = c.prepareStatement(sql)) {
                  execute(s, streamId, version);
                }
              } else {
                execute(heldStatement, streamId, version);
              }
              return 1;
            }

            private void execute(PreparedStatement s, String streamId, long version)
                throws SQLException {
              if (guarded) {
                if (sql == GUARDED_INSERT) {
                  bindGuarded(s, streamId, version);
                } else if (sql == HEAD_ROW_GUARDED_INSERT) {
                  bindHeadRowGuarded(s, streamId, version);
                } else {
                  bindHeadGuarded(s, streamId, version);
                }
                try (ResultSet r = s.executeQuery()) {
                  if (!r.next()) {
                    throw new IllegalStateException("guard refused version " + version);
                  }
                }
              } else if (sql == Payloads.LIMIT_INSERT) {
                Payloads.bindLimitRow(s, streamId, version);
                s.executeUpdate();
              } else {
                Payloads.bindLimitRow(s, streamId, version);
                s.executeQuery().close();
              }
            }

            @Override
            public void close() throws SQLException {
              if (held != null) {
                held.close();
              }
            }
          };
        });
  }

  /** Binds the head-row-guarded INSERT for appending version {@code expected + 1}. */
  private static void bindHeadRowGuarded(PreparedStatement s, String streamId, long expected)
      throws SQLException {
    EventData event = Payloads.event();
    s.setObject(1, event.eventId());
    s.setString(2, event.type());
    s.setString(3, event.data());
    s.setString(4, MetadataJson.write(event.metadata()));
    s.setString(5, streamId);
    s.setLong(6, expected);
    s.setLong(7, expected);
  }

  /** Binds the head-guarded INSERT for appending version {@code expected + 1}. */
  private static void bindHeadGuarded(PreparedStatement s, String streamId, long expected)
      throws SQLException {
    EventData event = Payloads.event();
    s.setString(1, streamId);
    s.setLong(2, expected);
    s.setLong(3, expected);
    s.setObject(4, event.eventId());
    s.setString(5, event.type());
    s.setString(6, event.data());
    s.setString(7, MetadataJson.write(event.metadata()));
  }

  /** Binds the guarded INSERT for appending version {@code expected + 1}. */
  private static void bindGuarded(PreparedStatement s, String streamId, long expected)
      throws SQLException {
    EventData event = Payloads.event();
    s.setString(1, streamId);
    s.setLong(2, expected);
    s.setObject(3, event.eventId());
    s.setString(4, event.type());
    s.setString(5, event.data());
    s.setString(6, MetadataJson.write(event.metadata()));
    s.setString(7, streamId);
    s.setLong(8, expected);
  }
}
