package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.scan.ScanModule;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Without DATABASE_URL the service runs its own PostgreSQL: its data outlives a restart, and it is
 * closed to everyone but the service (passwords, loopback only, a role that is not a superuser).
 */
class EmbeddedDatabaseTest {
  @Test
  void scans_survive_a_restart_of_the_service_and_its_embedded_postgres() throws Exception {
    Path dataDir = Files.createTempDirectory("eventscan-data");
    Config config = Config.fromEnvironment(Map.of("PORT", "0", "DATA_DIR", dataDir.toString()));
    String scanId;
    try (Service first = Service.start(config)) {
      String url = "http://127.0.0.1:" + first.port();
      scanId = RunningService.createScanAt(url, "{\"target\":\"persist.example\"}");
    }

    try (Service second = Service.start(config)) {
      awaitCompleted("http://127.0.0.1:" + second.port(), scanId);
    }
    assertThat(dataDir.resolve("postgres").resolve("PG_VERSION")).exists();
  }

  @Test
  void the_embedded_database_refuses_connections_without_the_generated_passwords()
      throws Exception {
    Path dataDir = Files.createTempDirectory("eventscan-locked");
    Config config = Config.fromEnvironment(Map.of("PORT", "0", "DATA_DIR", dataDir.toString()));
    try (Service service = Service.start(config)) {
      String url = "jdbc:postgresql://127.0.0.1:" + service.database().embeddedPort() + "/postgres";
      for (String user : List.of("postgres", Database.SERVICE_ROLE)) {
        assertThatThrownBy(() -> DriverManager.getConnection(url, user, null).close())
            .as("no password as " + user)
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("password");
        assertThatThrownBy(() -> DriverManager.getConnection(url, user, "postgres").close())
            .as("a guessed password as " + user)
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("password authentication failed");
      }

      Path credentials = dataDir.resolve(Database.CREDENTIALS_FILE);
      assertThat(Files.getPosixFilePermissions(credentials))
          .isEqualTo(DatabaseCredentials.OWNER_ONLY);
      try (Connection c =
              DriverManager.getConnection(url, "postgres", superuserPassword(credentials));
          Statement sql = c.createStatement()) {
        assertThat(single(sql, "SHOW listen_addresses")).isEqualTo("localhost");
        assertThat(single(sql, "SHOW unix_socket_directories")).isEmpty();
        assertThat(
                single(
                    sql,
                    "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256'"))
            .isEqualTo("0");
      }
    }
  }

  @Test
  void the_service_connects_as_a_role_that_owns_only_its_schemas() throws Exception {
    Path dataDir = Files.createTempDirectory("eventscan-role");
    Config config = Config.fromEnvironment(Map.of("PORT", "0", "DATA_DIR", dataDir.toString()));
    try (Service service = Service.start(config);
        Connection c = service.store().dataSource().getConnection();
        Statement sql = c.createStatement()) {
      assertThat(single(sql, "SELECT current_user")).isEqualTo(Database.SERVICE_ROLE);
      assertThat(
              single(
                  sql,
                  "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls"
                      + " FROM pg_roles WHERE rolname = current_user"))
          .isEqualTo("f");
      assertThat(
              rows(
                  sql,
                  "SELECT nspname FROM pg_namespace"
                      + " WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
                      + " ORDER BY 1"))
          .containsExactlyInAnyOrderElementsOf(Database.SERVICE_SCHEMAS);
      assertThatThrownBy(() -> sql.execute("COPY (SELECT 1) TO PROGRAM 'true'"))
          .hasMessageContaining("permission denied");
    }
  }

  /**
   * Earlier versions initialized the cluster with "trust" and ran everything as the superuser: on
   * the first start with this version, the service sets passwords, hands its tables to its role and
   * carries on with the data.
   */
  @Test
  void a_data_directory_from_before_passwords_is_locked_down_and_keeps_working() throws Exception {
    Path dataDir = Files.createTempDirectory("eventscan-legacy");
    try (EmbeddedPostgres legacy =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir.resolve("postgres"))
            .setCleanDataDirectory(false)
            .start()) {
      // As the old service did: the superuser creates the store's and the module's tables.
      EventStore store = EventStore.builder(legacy.getPostgresDatabase()).build();
      ScanModule.migrate(store, Service.SCAN_SCHEMA);
      store.close();
    }

    Config config = Config.fromEnvironment(Map.of("PORT", "0", "DATA_DIR", dataDir.toString()));
    try (Service service = Service.start(config)) {
      String url = "http://127.0.0.1:" + service.port();
      awaitCompleted(url, RunningService.createScanAt(url, "{\"target\":\"legacy.example\"}"));
      String jdbc =
          "jdbc:postgresql://127.0.0.1:" + service.database().embeddedPort() + "/postgres";
      assertThatThrownBy(() -> DriverManager.getConnection(jdbc, "postgres", null).close())
          .hasMessageContaining("password");
    }
  }

  private static void awaitCompleted(String url, String scanId) {
    RunningService.await(
        "scan " + scanId + " completed",
        () -> {
          try {
            HttpResponse<String> scan =
                RunningService.HTTP.send(
                    HttpRequest.newBuilder(URI.create(url + "/api/scans/" + scanId)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return scan.statusCode() == 200
                && Json.tree(scan.body()).get("status").asText().equals("COMPLETED");
          } catch (Exception e) {
            return false;
          }
        });
  }

  private static String superuserPassword(Path credentials) throws Exception {
    Properties properties = new Properties();
    try (var in = Files.newBufferedReader(credentials)) {
      properties.load(in);
    }
    return properties.getProperty("superuser.password");
  }

  private static String single(Statement sql, String query) throws SQLException {
    List<String> rows = rows(sql, query);
    assertThat(rows).as(query).hasSize(1);
    return rows.get(0);
  }

  private static List<String> rows(Statement sql, String query) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (ResultSet result = sql.executeQuery(query)) {
      while (result.next()) {
        rows.add(result.getString(1));
      }
    }
    return rows;
  }
}
