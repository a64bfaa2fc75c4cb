package dev.eventscan.eventstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.schema.EventStoreSchema;
import dev.eventscan.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The library's Flyway and an embedding application's Flyway live side by side. */
@ExtendWith(PostgresExtension.class)
class SchemaMigrationTest {

  @Test
  void library_and_application_migrations_both_apply_and_a_rerun_applies_nothing(
      DataSource dataSource) throws Exception {
    Flyway application =
        Flyway.configure().dataSource(dataSource).locations("classpath:db/test_app").load();

    assertThat(application.migrate().migrationsExecuted).isEqualTo(1);
    assertThat(EventStoreSchema.migrate(dataSource, "event_store")).isPositive();
    assertThat(EventStoreSchema.migrate(dataSource, "event_store")).isZero();
    assertThat(application.migrate().migrationsExecuted).isZero();
    assertThat(application.info().current().getVersion().getVersion()).isEqualTo("1");

    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet tables =
            s.executeQuery(
                """
                SELECT table_schema || '.' || table_name FROM information_schema.tables
                 WHERE table_name IN ('app_things', 'flyway_schema_history', 'events',
                                      'streams', 'event_store_schema_history')
                   AND table_schema IN ('public', 'event_store')
                 ORDER BY 1
                """)) {
      StringBuilder found = new StringBuilder();
      while (tables.next()) {
        found.append(tables.getString(1)).append(' ');
      }
      assertThat(found.toString().trim())
          .isEqualTo(
              "event_store.event_store_schema_history event_store.events event_store.streams"
                  + " public.app_things public.flyway_schema_history");
    }
  }

  @Test
  void a_second_store_in_its_own_schema_is_independent(DataSource dataSource) {
    EventStore first = EventStore.builder(dataSource).schema("tenant_a").build();
    EventStore second = EventStore.builder(dataSource).schema("tenant_b").build();
    first.append(
        "thing-1",
        dev.eventscan.eventstore.stream.ExpectedVersion.noStream(),
        Events.event("Made", 1));

    assertThat(first.streamInfo("thing-1")).isPresent();
    assertThat(second.streamInfo("thing-1")).isEmpty();
  }
}
