package dev.eventscan.bench;

import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.MetadataJson;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;

/** The same realistic small event for ours and the limit: ~200 bytes of data, a correlation id. */
final class Payloads {
  static final String TYPE = "OrderLineAdded";
  static final String DATA =
      "{\"orderId\":\"5f0c6a1e-7d7b-4c8e-9a51-2f4d1c7e9b10\",\"sku\":\"SKU-000123\","
          + "\"quantity\":3,\"unitPrice\":{\"amount\":\"19.99\",\"currency\":\"EUR\"},"
          + "\"addedBy\":\"customer-42\",\"note\":\"gift wrap, please\"}";

  static final String LIMIT_INSERT =
      """
      INSERT INTO limit_jdbc.events (event_id, stream_id, stream_version, type, data, metadata)
      VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb)
      """;

  private Payloads() {}

  static EventData event() {
    return new EventData(
        UUID.randomUUID(),
        TYPE,
        DATA,
        EventMetadata.correlated(UUID.randomUUID().toString(), null));
  }

  /** Binds one limit row: the same values the library would write. */
  static void bindLimitRow(PreparedStatement insert, String streamId, long version)
      throws SQLException {
    insert.setObject(1, UUID.randomUUID());
    insert.setString(2, streamId);
    insert.setLong(3, version);
    insert.setString(4, TYPE);
    insert.setString(5, DATA);
    insert.setString(
        6, MetadataJson.write(EventMetadata.correlated(UUID.randomUUID().toString(), null)));
  }
}
