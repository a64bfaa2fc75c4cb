package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigTest {
  @Test
  void defaults_need_no_environment_at_all() {
    Config config = Config.fromEnvironment(Map.of());
    assertThat(config.port()).isEqualTo(8080);
    assertThat(config.databaseUrl()).isNull();
    assertThat(config.dataDir().toString()).isEqualTo("data");
    assertThat(config.scanner()).isEqualTo("simulated");
    assertThat(config.maxRetries()).isEqualTo(3);
  }

  @Test
  void a_worker_pool_large_enough_for_400_simulated_scans_a_second_is_accepted() {
    // About 300 scanner calls of 150 ms run at once at that rate (benchmarks/run
    // simulator-max-rate).
    assertThat(Config.fromEnvironment(Map.of("WORKER_POOL_SIZE", "512")).workerPoolSize())
        .isEqualTo(512);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "PORT|eighty|PORT must be a whole number",
        "PORT|70000|PORT must be between",
        "SCANNER|nmap|SCANNER must be one of",
        "WORKER_POOL_SIZE|0|WORKER_POOL_SIZE must be between",
        "WORKER_POOL_SIZE|1025|WORKER_POOL_SIZE must be between",
        "MAX_RETRIES|-1|MAX_RETRIES must be between",
        "LOG_LEVEL|loud|LOG_LEVEL must be one of",
        "SSE_KEEPALIVE_SECONDS|60|SSE_KEEPALIVE_SECONDS must be between 1 and 25",
        "DNS_RESOLVER|10.0.0.1:dns|DNS_RESOLVER must look like host:port",
        "API_TOKEN|short|API_TOKEN must be at least 16 characters",
        "ALLOW_UNAUTHENTICATED|maybe|ALLOW_UNAUTHENTICATED must be true or false",
        "ALLOWED_HOSTS|evil.example:8080|ALLOWED_HOSTS must be comma-separated host names",
        "MAX_LIVE_CONNECTIONS|0|MAX_LIVE_CONNECTIONS must be between",
        "MAX_LIVE_CONNECTIONS_PER_CLIENT|-5|MAX_LIVE_CONNECTIONS_PER_CLIENT must be between",
        "CLIENT_ADDRESS_HEADER|X Real IP|CLIENT_ADDRESS_HEADER must be an HTTP header name"
      })
  void a_bad_value_is_refused_naming_the_variable(String name, String value, String message) {
    assertThatThrownBy(() -> Config.fromEnvironment(Map.of(name, value)))
        .isInstanceOf(Config.InvalidConfigException.class)
        .hasMessageContaining(message);
  }

  @ParameterizedTest
  @CsvSource({"0.0.0.0", "::", "192.168.1.20", "eventscan.internal.example"})
  void a_bind_reachable_from_other_machines_without_a_token_refuses_to_start_saying_why(
      String bindAddress) {
    assertThatThrownBy(() -> Config.fromEnvironment(Map.of("BIND_ADDRESS", bindAddress)))
        .isInstanceOf(Config.InvalidConfigException.class)
        .hasMessageContaining("API_TOKEN must be set")
        .hasMessageContaining("ALLOW_UNAUTHENTICATED=true");
  }

  @Test
  void a_token_or_an_explicit_override_lets_it_start_on_every_interface() {
    assertThat(
            Config.fromEnvironment(
                    Map.of("BIND_ADDRESS", "0.0.0.0", "API_TOKEN", "0123456789abcdef"))
                .apiToken())
        .isEqualTo("0123456789abcdef");
    assertThat(
            Config.fromEnvironment(
                    Map.of("BIND_ADDRESS", "0.0.0.0", "ALLOW_UNAUTHENTICATED", "true"))
                .allowUnauthenticated())
        .isTrue();
  }

  @ParameterizedTest
  @CsvSource({"127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"})
  void loopback_binds_need_no_token(String bindAddress) {
    assertThat(Config.fromEnvironment(Map.of("BIND_ADDRESS", bindAddress)).apiToken()).isNull();
  }

  @Test
  void allowed_hosts_are_the_loopback_names_the_bind_address_and_the_configured_ones() {
    assertThat(Config.fromEnvironment(Map.of()).allowedHosts())
        .containsExactlyInAnyOrder("localhost", "127.0.0.1", "::1");
    assertThat(
            Config.fromEnvironment(
                    Map.of(
                        "BIND_ADDRESS", "10.1.2.3",
                        "API_TOKEN", "0123456789abcdef",
                        "ALLOWED_HOSTS", " Scans.Example.ORG., other.example "))
                .allowedHosts())
        .containsExactlyInAnyOrder(
            "localhost", "127.0.0.1", "::1", "10.1.2.3", "scans.example.org", "other.example");
  }

  @Test
  void database_urls_in_postgres_form_become_jdbc_urls_with_credentials() {
    Database.JdbcUrl url =
        Database.jdbcUrl("postgres://app:pw%21@db.internal:5433/scans?sslmode=require");
    assertThat(url.url()).isEqualTo("jdbc:postgresql://db.internal:5433/scans?sslmode=require");
    assertThat(url.user()).isEqualTo("app");
    assertThat(url.password()).isEqualTo("pw!");
    assertThat(Database.jdbcUrl("jdbc:postgresql://h/db").url())
        .isEqualTo("jdbc:postgresql://h/db");
    assertThatThrownBy(() -> Database.jdbcUrl("mysql://h/db"))
        .hasMessageContaining("DATABASE_URL must start with");
  }
}
