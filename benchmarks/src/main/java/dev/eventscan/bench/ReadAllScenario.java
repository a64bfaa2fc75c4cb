package dev.eventscan.bench;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Reads the whole log of 1,000,000 events in pages of 1,000: ours through {@code readAll} (with the
 * transaction barrier), the limit by plain keyset paging on the same table shape, mapping the same
 * columns into the same record type.
 */
final class ReadAllScenario extends RatioScenario {
  static final int EVENTS = 1_000_000;
  static final int PAGE = 1_000;

  @Override
  public String name() {
    return "read-all-1m";
  }

  @Override
  public void prepare(BenchmarkDatabase database) throws Exception {
    LogFill.fill(database.store(), EVENTS);
    try (Connection c = database.limit().getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          """
          INSERT INTO limit_jdbc.events (id, transaction_id, event_id, stream_id, stream_version,
                                         type, data, metadata, recorded_at)
          SELECT id, transaction_id, event_id, stream_id, stream_version, type, data, metadata,
                 recorded_at
            FROM event_store.events
          """);
      s.execute("VACUUM ANALYZE limit_jdbc.events");
      s.execute("VACUUM ANALYZE event_store.events");
    }
  }

  @Override
  Measurement runOurs(BenchmarkDatabase database) throws Exception {
    long start = System.nanoTime();
    return Measurement.rate(
        check(readEverything(database.store())) / ((System.nanoTime() - start) / 1e9));
  }

  /** Pages through the whole log with {@code readAll}; returns how many events it read. */
  static long readEverything(EventStore store) {
    long read = 0;
    Position after = Position.START;
    GlobalLogPage page;
    do {
      page = store.readAll(after, EventFilter.all(), PAGE);
      read += page.events().size();
      after = page.next();
    } while (!page.endOfLog());
    return read;
  }

  @Override
  Measurement runLimit(BenchmarkDatabase database) throws Exception {
    String sql =
        """
        SELECT id, transaction_id::text AS tx, event_id, stream_id, stream_version, type,
               data::text, metadata::text, recorded_at
          FROM limit_jdbc.events
         WHERE (transaction_id, id) > (?::text::xid8, ?)
         ORDER BY transaction_id, id
         LIMIT ?
        """;
    long start = System.nanoTime();
    long read = 0;
    long afterTx = 0;
    long afterId = 0;
    try (Connection c = database.limit().getConnection();
        PreparedStatement select = c.prepareStatement(sql)) {
      while (true) {
        select.setString(1, Long.toString(afterTx));
        select.setLong(2, afterId);
        select.setInt(3, PAGE);
        List<RecordedEvent> events = new ArrayList<>(PAGE);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            events.add(
                new RecordedEvent(
                    new Position(Long.parseLong(rows.getString(2)), rows.getLong(1)),
                    rows.getObject(3, UUID.class),
                    rows.getString(4),
                    rows.getLong(5),
                    rows.getString(6),
                    rows.getString(7),
                    rows.getString(8),
                    rows.getObject(9, OffsetDateTime.class).toInstant()));
          }
        }
        read += events.size();
        if (events.size() < PAGE) {
          break;
        }
        Position last = events.get(events.size() - 1).position();
        afterTx = last.transactionId();
        afterId = last.eventId();
      }
    }
    return Measurement.rate(check(read) / ((System.nanoTime() - start) / 1e9));
  }

  static long check(long read) {
    if (read != EVENTS) {
      throw new IllegalStateException("read " + read + " events, expected " + EVENTS);
    }
    return read;
  }
}
