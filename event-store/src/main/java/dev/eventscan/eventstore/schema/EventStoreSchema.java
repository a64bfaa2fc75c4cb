package dev.eventscan.eventstore.schema;

import java.util.Map;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * Creates and upgrades the library's tables with Flyway, in the library's own schema and with its
 * own history table, so the embedding application's Flyway migrations are never touched.
 */
public final class EventStoreSchema {
  public static final String DEFAULT_SCHEMA = "event_store";
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,53}");

  private EventStoreSchema() {}

  /** Applies every pending migration; returns how many were applied. */
  public static int migrate(DataSource dataSource, String schema) {
    return Flyway.configure()
        .dataSource(dataSource)
        .schemas(requireValidName(schema))
        .defaultSchema(schema)
        .table("event_store_schema_history")
        .locations("classpath:db/event_store")
        .placeholders(Map.of("schema", schema))
        .load()
        .migrate()
        .migrationsExecuted;
  }

  /**
   * Schema names are written into SQL, so only plain lower-case identifiers are accepted, and at
   * most 54 characters: the notification channel {@code <schema>_appended} must fit PostgreSQL's
   * 63-byte identifiers.
   */
  public static String requireValidName(String schema) {
    if (schema == null || !IDENTIFIER.matcher(schema).matches()) {
      throw new IllegalArgumentException(
          "schema name must match [a-z_][a-z0-9_]{0,53}, got: " + schema);
    }
    return schema;
  }
}
