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

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "PORT|eighty|PORT must be a whole number",
        "PORT|70000|PORT must be between",
        "SCANNER|nmap|SCANNER must be one of",
        "WORKER_POOL_SIZE|0|WORKER_POOL_SIZE must be between",
        "MAX_RETRIES|-1|MAX_RETRIES must be between",
        "LOG_LEVEL|loud|LOG_LEVEL must be one of",
        "SSE_KEEPALIVE_SECONDS|60|SSE_KEEPALIVE_SECONDS must be between 1 and 25",
        "DNS_RESOLVER|10.0.0.1:dns|DNS_RESOLVER must look like host:port"
      })
  void a_bad_value_is_refused_naming_the_variable(String name, String value, String message) {
    assertThatThrownBy(() -> Config.fromEnvironment(Map.of(name, value)))
        .isInstanceOf(Config.InvalidConfigException.class)
        .hasMessageContaining(message);
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
