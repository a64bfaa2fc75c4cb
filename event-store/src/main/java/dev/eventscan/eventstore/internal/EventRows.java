package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.UUID;

/** The one column list every event query selects, and its mapping. */
public final class EventRows {
  // Aliased: an output column named transaction_id would capture ORDER BY transaction_id and
  // sort as text.
  public static final String COLUMNS =
      "id, transaction_id::text AS transaction_id_text, event_id, stream_id, stream_version, type, data::text,"
          + " metadata::text, recorded_at";

  private EventRows() {}

  public static RecordedEvent map(ResultSet row) throws SQLException {
    return new RecordedEvent(
        Position.of(row.getString(2), row.getLong(1)),
        row.getObject(3, UUID.class),
        row.getString(4),
        row.getLong(5),
        row.getString(6),
        row.getString(7),
        row.getString(8),
        row.getObject(9, OffsetDateTime.class).toInstant());
  }
}
