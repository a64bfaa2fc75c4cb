package dev.eventscan.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.NotifyMode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * One fresh database for one scenario: our store in schema {@code event_store}, and the limit's
 * table {@code limit_jdbc.events}, a copy of the shape of ours (columns, defaults, constraints,
 * indexes).
 */
final class BenchmarkDatabase implements AutoCloseable {
  static final int POOL_SIZE = 16;

  private final HikariDataSource ours;
  private final HikariDataSource limit;
  private final EventStore store;

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
            .build();
    try (Connection c = limit.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA limit_jdbc");
      s.execute("CREATE TABLE limit_jdbc.events (LIKE event_store.events INCLUDING ALL)");
    }
  }

  private static HikariDataSource pool(String url, String name) {
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

  EventStore store() {
    return store;
  }

  DataSource ours() {
    return ours;
  }

  DataSource limit() {
    return limit;
  }

  @Override
  public void close() {
    ours.close();
    limit.close();
  }
}
