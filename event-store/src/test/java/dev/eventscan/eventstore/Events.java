package dev.eventscan.eventstore;

import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

/** Test events and ids. */
public final class Events {
  private Events() {}

  public static String newStreamId(String category) {
    return category + "-" + UUID.randomUUID();
  }

  public static EventData event(String type, int n) {
    return EventData.of(
        type, "{\"n\":" + n + "}", EventMetadata.correlated("corr-" + n, "cause-" + n));
  }

  public static List<EventData> events(String type, int count) {
    return IntStream.rangeClosed(1, count).mapToObj(n -> event(type, n)).toList();
  }

  /**
   * Inserts version 1 of each stream with a plain INSERT in {@code transaction}, which the test
   * controls: left open it holds the versions (and the barrier), committed late it is an event that
   * took its position before younger ones.
   */
  public static void insertFirstEvents(Connection transaction, String type, String... streamIds)
      throws SQLException {
    try (PreparedStatement insert =
        transaction.prepareStatement(
            """
            INSERT INTO event_store.events (event_id, stream_id, stream_version, type, data)
            VALUES (gen_random_uuid(), ?, 1, ?, '{}')
            """)) {
      for (String streamId : streamIds) {
        insert.setString(1, streamId);
        insert.setString(2, type);
        insert.executeUpdate();
      }
    }
  }
}
