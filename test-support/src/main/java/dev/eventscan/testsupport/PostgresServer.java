package dev.eventscan.testsupport;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The one PostgreSQL server of a test JVM. Picks, in order: {@code EVENTSTORE_TEST_JDBC_URL},
 * Testcontainers {@code postgres:17} when Docker answers, else zonky embedded PostgreSQL 17.
 */
public final class PostgresServer {
  private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);
  private static final AtomicInteger databaseCounter = new AtomicInteger();
  private static volatile PostgresServer instance;

  private final String adminJdbcUrl;
  private final String user;
  private final String password;

  private PostgresServer(String adminJdbcUrl, String user, String password) {
    this.adminJdbcUrl = adminJdbcUrl;
    this.user = user;
    this.password = password;
  }

  public static PostgresServer get() {
    if (instance == null) {
      synchronized (PostgresServer.class) {
        if (instance == null) {
          instance = start();
        }
      }
    }
    return instance;
  }

  private static PostgresServer start() {
    String url = System.getenv("EVENTSTORE_TEST_JDBC_URL");
    if (url != null && !url.isBlank()) {
      log.info("Tests use the PostgreSQL at EVENTSTORE_TEST_JDBC_URL");
      return new PostgresServer(
          url,
          System.getenv("EVENTSTORE_TEST_JDBC_USER"),
          System.getenv("EVENTSTORE_TEST_JDBC_PASSWORD"));
    }
    if (dockerAvailable()) {
      log.info("Tests use Testcontainers postgres:17");
      PostgreSQLContainer container = new PostgreSQLContainer("postgres:17");
      try {
        container.start();
        return new PostgresServer(
            container.getJdbcUrl(), container.getUsername(), container.getPassword());
      } catch (RuntimeException e) {
        // Docker answers but cannot run the image (no registry access, say): still test.
        log.warn("Testcontainers could not start postgres:17, using embedded PostgreSQL", e);
      }
    }
    log.info("Tests use zonky embedded PostgreSQL 17");
    try {
      EmbeddedPostgres postgres =
          EmbeddedPostgres.builder()
              .setServerConfig("max_connections", "300")
              .setServerConfig("fsync", "off")
              .setServerConfig("synchronous_commit", "off")
              .start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> closeQuietly(postgres)));
      return new PostgresServer(postgres.getJdbcUrl("postgres", "postgres"), "postgres", null);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not start embedded PostgreSQL", e);
    }
  }

  private static boolean dockerAvailable() {
    if ("false".equalsIgnoreCase(System.getenv("EVENTSTORE_TEST_DOCKER"))) {
      return false;
    }
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  private static void closeQuietly(EmbeddedPostgres postgres) {
    try {
      postgres.close();
    } catch (IOException e) {
      log.warn("Embedded PostgreSQL did not stop cleanly", e);
    }
  }

  /** Creates a new, empty database and returns its JDBC URL. */
  public String createDatabase(String hint) {
    String name =
        ("t_" + hint.replaceAll("[^A-Za-z0-9]", "_") + "_" + databaseCounter.incrementAndGet())
            .toLowerCase();
    if (name.length() > 60) {
      name = name.substring(name.length() - 60);
    }
    try (Connection connection = DriverManager.getConnection(adminJdbcUrl, user, password);
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE \"" + name + "\"");
    } catch (SQLException e) {
      throw new IllegalStateException("Could not create test database " + name, e);
    }
    return withDatabase(adminJdbcUrl, name);
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  static String withDatabase(String jdbcUrl, String database) {
    URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
    String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
    return "jdbc:postgresql://" + uri.getRawAuthority() + "/" + database + query;
  }
}
