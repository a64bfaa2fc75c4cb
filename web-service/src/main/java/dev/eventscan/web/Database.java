package dev.eventscan.web;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's PostgreSQL: the server at {@code DATABASE_URL}, or an embedded PostgreSQL 17 with
 * its data in {@code DATA_DIR}, durable (fsync and synchronous commit on) and kept across restarts.
 */
final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final EmbeddedPostgres embedded;
  private final HikariDataSource pool;

  private Database(EmbeddedPostgres embedded, HikariDataSource pool) {
    this.embedded = embedded;
    this.pool = pool;
  }

  static Database open(Config config) throws IOException {
    if (config.databaseUrl() != null) {
      return new Database(null, pool(jdbcUrl(config.databaseUrl()), config));
    }
    Path dataDir = config.dataDir().toAbsolutePath();
    Files.createDirectories(dataDir);
    log.info("Starting embedded PostgreSQL with data in {}", dataDir);
    stopOrphanedServer(dataDir.resolve("postgres"));
    EmbeddedPostgres postgres =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir.resolve("postgres"))
            .setCleanDataDirectory(false)
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("full_page_writes", "on")
            .setServerConfig("max_connections", "100")
            .start();
    return new Database(postgres, pool(postgres.getJdbcUrl("postgres", "postgres"), config));
  }

  /**
   * A service killed with SIGKILL leaves its embedded PostgreSQL running on the data directory, and
   * a new one cannot start there. The orphan has no clients left: ask it to shut down (SIGINT, a
   * fast shutdown that still writes a clean checkpoint) and wait for it.
   */
  static void stopOrphanedServer(Path postgresDir) throws IOException {
    Path pidFile = postgresDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid;
    try {
      pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
    } catch (RuntimeException e) {
      return; // unreadable: PostgreSQL itself will judge the stale file
    }
    var process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (process.isEmpty()
        || !process.get().info().command().map(c -> c.contains("postgres")).orElse(false)) {
      return;
    }
    log.warn(
        "Stopping PostgreSQL (pid {}) left running on {} by an earlier crash", pid, postgresDir);
    try {
      new ProcessBuilder("kill", "-INT", Long.toString(pid)).inheritIO().start().waitFor();
      process.get().onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("could not stop the PostgreSQL left running on " + postgresDir, e);
    }
  }

  private static HikariDataSource pool(JdbcUrl url, Config config) {
    HikariConfig hikari = new HikariConfig();
    hikari.setJdbcUrl(url.url());
    if (url.user() != null) {
      hikari.setUsername(url.user());
      hikari.setPassword(url.password());
    }
    hikari.setMaximumPoolSize(Math.max(16, config.workerPoolSize() + 8));
    hikari.setPoolName("eventscan");
    return new HikariDataSource(hikari);
  }

  private static HikariDataSource pool(String jdbcUrl, Config config) {
    return pool(new JdbcUrl(jdbcUrl, null, null), config);
  }

  record JdbcUrl(String url, String user, String password) {}

  /** Accepts {@code postgres://user:pass@host:port/db} as well as a JDBC URL. */
  static JdbcUrl jdbcUrl(String databaseUrl) {
    if (databaseUrl.startsWith("jdbc:postgresql:")) {
      return new JdbcUrl(databaseUrl, null, null);
    }
    if (!databaseUrl.startsWith("postgres://") && !databaseUrl.startsWith("postgresql://")) {
      throw new Config.InvalidConfigException(
          "DATABASE_URL must start with postgres://, postgresql:// or jdbc:postgresql:");
    }
    try {
      URI uri = URI.create(databaseUrl);
      String user = null;
      String password = null;
      if (uri.getRawUserInfo() != null) {
        String[] parts = uri.getUserInfo().split(":", 2);
        user = parts[0];
        password = parts.length > 1 ? parts[1] : null;
      }
      String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
      int port = uri.getPort() < 0 ? 5432 : uri.getPort();
      return new JdbcUrl(
          "jdbc:postgresql://" + uri.getHost() + ":" + port + uri.getRawPath() + query,
          user,
          password);
    } catch (IllegalArgumentException e) {
      throw new Config.InvalidConfigException("DATABASE_URL is not a valid URL: " + e.getMessage());
    }
  }

  DataSource dataSource() {
    return pool;
  }

  boolean embedded() {
    return embedded != null;
  }

  @Override
  public void close() {
    pool.close();
    if (embedded != null) {
      try {
        embedded.close();
      } catch (IOException e) {
        log.warn("Embedded PostgreSQL did not stop cleanly", e);
      }
    }
  }
}
