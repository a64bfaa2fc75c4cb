package dev.eventscan.web;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.schema.EventStoreSchema;
import dev.eventscan.scan.process.ProcessSettings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's PostgreSQL: the server at {@code DATABASE_URL}, or an embedded PostgreSQL 17 with
 * its data in {@code DATA_DIR}, durable (fsync and synchronous commit on) and kept across restarts.
 */
final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);
  static final String CREDENTIALS_FILE = "database-credentials";
  static final String SERVICE_ROLE = "eventscan";

  /** The event store's, the scan module's and the console's schemas, as Service starts them. */
  static final List<String> SERVICE_SCHEMAS =
      List.of(EventStoreSchema.DEFAULT_SCHEMA, Service.SCAN_SCHEMA, Service.CONSOLE_SCHEMA);

  private static final String PG_HBA_MARKER = "# Written by eventscan";

  /** Password (SCRAM) logins over loopback TCP; nothing else, no "trust". */
  private static final String PG_HBA =
      PG_HBA_MARKER
          + """
           at every start (see Database.java); edits are overwritten.
          host all all 127.0.0.1/32 scram-sha-256
          host all all ::1/128 scram-sha-256
          """;

  /**
   * Tables (their indexes and owned sequences follow), then the sequences left, then routines in
   * the service's schemas that some other role owns.
   */
  private static final String HAND_OVER_OBJECTS =
      """
      DO $$ DECLARE o record; BEGIN
        FOR o IN SELECT c.oid::regclass AS name,
                        CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                       ELSE 'TABLE' END AS kind
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname IN ('%1$s') AND c.relkind IN ('r', 'p', 'v', 'm')
                    AND pg_get_userbyid(c.relowner) <> '%2$s' LOOP
          EXECUTE format('ALTER %%s %%s OWNER TO %2$s', o.kind, o.name);
        END LOOP;
        FOR o IN SELECT c.oid::regclass AS name
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname IN ('%1$s') AND c.relkind = 'S'
                    AND pg_get_userbyid(c.relowner) <> '%2$s' LOOP
          EXECUTE format('ALTER SEQUENCE %%s OWNER TO %2$s', o.name);
        END LOOP;
        FOR o IN SELECT p.oid::regprocedure AS name
                   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname IN ('%1$s') AND pg_get_userbyid(p.proowner) <> '%2$s' LOOP
          EXECUTE format('ALTER ROUTINE %%s OWNER TO %2$s', o.name);
        END LOOP;
      END $$
      """;

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
    Path postgresDir = dataDir.resolve("postgres");
    log.info("Starting embedded PostgreSQL with data in {}", dataDir);
    stopOrphanedServer(postgresDir);
    DatabaseCredentials credentials =
        DatabaseCredentials.loadOrCreate(dataDir.resolve(CREDENTIALS_FILE));
    boolean fresh = !Files.exists(postgresDir.resolve("postgresql.conf"));
    if (!fresh && !credentials.created()) {
      Files.writeString(postgresDir.resolve("pg_hba.conf"), PG_HBA); // undo any drift
    } else if (!fresh) {
      if (Files.readString(postgresDir.resolve("pg_hba.conf")).contains(PG_HBA_MARKER)) {
        throw new IOException(
            dataDir.resolve(CREDENTIALS_FILE)
                + " is missing, and without it the embedded database cannot be opened; restore"
                + " it from a backup of DATA_DIR");
      }
      log.warn("Locking down an embedded database created before passwords were required");
    }
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder()
            .setDataDirectory(postgresDir)
            .setCleanDataDirectory(false)
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("full_page_writes", "on")
            .setServerConfig("max_connections", "100")
            // Loopback TCP only, and no Unix socket (its directory would be shared with others).
            .setServerConfig("listen_addresses", "localhost")
            .setServerConfig("unix_socket_directories", "")
            // zonky's start-up check connects as the superuser.
            .setConnectConfig("password", credentials.superuserPassword());
    Path passwordFile = dataDir.resolve("initdb-password");
    if (fresh) {
      // initdb takes the last -A: ours replaces zonky's "trust", so no moment without passwords.
      builder
          .setLocaleConfig("auth", "scram-sha-256")
          .setLocaleConfig(
              "pwfile", credentials.writeSuperuserPasswordFile(passwordFile).toString());
    }
    EmbeddedPostgres postgres;
    try {
      postgres = builder.start();
    } finally {
      Files.deleteIfExists(passwordFile);
    }
    try {
      provision(postgres, postgresDir, credentials);
    } catch (SQLException | IOException | RuntimeException e) {
      postgres.close();
      throw new IOException("could not prepare the embedded database: " + e.getMessage(), e);
    }
    String url = "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
    return new Database(
        postgres, pool(new JdbcUrl(url, SERVICE_ROLE, credentials.servicePassword()), config));
  }

  /**
   * As the superuser, once per start (every step is idempotent): passwords only, and the service's
   * role, which may log in and owns its schemas and what is in them, nothing more. Objects an
   * earlier version created as the superuser are handed over.
   */
  private static void provision(
      EmbeddedPostgres postgres, Path postgresDir, DatabaseCredentials credentials)
      throws SQLException, IOException {
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement sql = c.createStatement()) {
      sql.execute("ALTER ROLE postgres PASSWORD '" + credentials.superuserPassword() + "'");
      sql.execute(
          """
          DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%1$s') THEN
              CREATE ROLE %1$s;
            END IF;
          END $$
          """
              .formatted(SERVICE_ROLE));
      sql.execute(
          "ALTER ROLE %s WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '%s'"
              .formatted(SERVICE_ROLE, credentials.servicePassword()));
      // The barrier-age metric reads other sessions' transaction starts.
      sql.execute("GRANT pg_read_all_stats TO " + SERVICE_ROLE);
      for (String schema : SERVICE_SCHEMAS) {
        sql.execute(
            "CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s".formatted(schema, SERVICE_ROLE));
        sql.execute("ALTER SCHEMA %s OWNER TO %s".formatted(schema, SERVICE_ROLE));
      }
      sql.execute(HAND_OVER_OBJECTS.formatted(String.join("','", SERVICE_SCHEMAS), SERVICE_ROLE));
      // Written last: a database from before passwords still trusts local logins until here.
      Files.writeString(postgresDir.resolve("pg_hba.conf"), PG_HBA);
      sql.execute("SELECT pg_reload_conf()");
    }
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
    // Scanner workers, one lock-holding connection per process-manager segment, and the rest.
    hikari.setMaximumPoolSize(
        Math.max(16, config.workerPoolSize() + ProcessSettings.DEFAULT_SEGMENTS + 8));
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

  /** The embedded server's port (tests connect to it directly). */
  int embeddedPort() {
    return embedded.getPort();
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
