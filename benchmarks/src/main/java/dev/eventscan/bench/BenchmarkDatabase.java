package dev.eventscan.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.NotifyMode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * One fresh database for one scenario: our store in schema {@code event_store}, the limit's table
 * {@code limit_jdbc.events}, a copy of the shape of ours (columns, defaults, constraints, indexes),
 * and, for the scenarios that ask for them, the peers Axon and Message DB in their own tables.
 */
final class BenchmarkDatabase implements AutoCloseable {
  /** Enough for the 32-writer appends (one connection each) and our background notifier. */
  static final int POOL_SIZE = 36;

  private final HikariDataSource ours;
  private final HikariDataSource limit;
  private final EventStore store;
  private EventStore uncoalescedStore;
  private AxonPeer axon;
  private Optional<MessageDbPeer> messageDb;

  private final String jdbcUrl;

  BenchmarkDatabase(String jdbcUrl) throws SQLException {
    this.jdbcUrl = jdbcUrl;
    ours = pool(jdbcUrl, "ours");
    // The limit gets pgjdbc's fastest batch mode: multi-row INSERTs.
    limit =
        pool(jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true", "limit");
    // -Dbench.notify=NONE|IN_TRANSACTION measures what the wake-up hints cost appends.
    store =
        EventStore.builder(ours)
            .notifyMode(NotifyMode.valueOf(System.getProperty("bench.notify", "AFTER_COMMIT")))
            // -Dbench.coalesce=false measures appends without coalesced commits.
            .coalesceAppends(Boolean.parseBoolean(System.getProperty("bench.coalesce", "true")))
            .build();
    try (Connection c = limit.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA limit_jdbc");
      s.execute("CREATE TABLE limit_jdbc.events (LIKE event_store.events INCLUDING ALL)");
    }
  }

  static HikariDataSource pool(String url, String name) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setUsername("postgres");
    config.setMaximumPoolSize(POOL_SIZE);
    config.setMinimumIdle(POOL_SIZE);
    config.setPoolName(name);
    return new HikariDataSource(config);
  }

  String jdbcUrl() {
    return jdbcUrl;
  }

  /**
   * Gives the tables planner statistics, as autovacuum does within a minute of use. A scenario's
   * fresh database has none while its warm-up and first runs go, and without them PostgreSQL
   * guesses that a category matches 0.5% of the events: a projection reading behind the head then
   * fetched and sorted every event after its position (13-90 ms a read) instead of walking the
   * index to its page.
   */
  void analyze() throws SQLException {
    try (Connection c = ours.getConnection();
        Statement s = c.createStatement()) {
      s.execute("ANALYZE");
    }
  }

  EventStore store() {
    return store;
  }

  /** Ours on the same pool and schema with coalesced commits off, created on first use. */
  synchronized EventStore uncoalescedStore() {
    if (uncoalescedStore == null) {
      uncoalescedStore =
          EventStore.builder(ours)
              .migrate(false)
              .notifyMode(NotifyMode.valueOf(System.getProperty("bench.notify", "AFTER_COMMIT")))
              .coalesceAppends(false)
              .build();
    }
    return uncoalescedStore;
  }

  DataSource ours() {
    return ours;
  }

  DataSource limit() {
    return limit;
  }

  /** Axon's engine and tables on this database, created on first use. */
  synchronized AxonPeer axon() {
    if (axon == null) {
      axon = new AxonPeer(jdbcUrl);
    }
    return axon;
  }

  /** Message DB on this database, installed on first use; empty where its SQL is not available. */
  synchronized Optional<MessageDbPeer> messageDb() throws Exception {
    if (messageDb == null) {
      messageDb = MessageDbPeer.install(jdbcUrl);
    }
    return messageDb;
  }

  @Override
  public synchronized void close() {
    // The stores first: their listeners hold pool connections, which closing the pool would break.
    store.close();
    if (uncoalescedStore != null) {
      uncoalescedStore.close();
    }
    ours.close();
    limit.close();
    if (axon != null) {
      axon.close();
    }
    if (messageDb != null) {
      messageDb.ifPresent(MessageDbPeer::close);
    }
  }
}
