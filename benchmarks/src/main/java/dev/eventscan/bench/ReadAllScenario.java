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
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.axonframework.eventhandling.TrackedEventMessage;

/**
 * Reads the whole log of 1,000,000 events in pages of 1,000: ours through {@code readAll} (with the
 * transaction barrier), the limit by plain keyset paging on the same table shape, mapping the same
 * columns into the same record type. The peers hold copies of the same events in their own tables
 * and read them through their own APIs: Axon's {@code readEvents} from a null tracking token (its
 * messages keep the payload serialized, as ours keeps it a JSON string), Message DB's {@code
 * get_category_messages} over the one category all the events are in.
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
    copyToAxon(database.axon());
    if (database.messageDb().isPresent()) {
      copyToMessageDb(database.messageDb().get());
    }
  }

  /** Our events as Axon writes them: JSON bytes in bytea, an ISO-8601 text timestamp. */
  private static void copyToAxon(AxonPeer axon) throws Exception {
    axon.execute(
        """
        INSERT INTO domainevententry (globalindex, eventidentifier, aggregateidentifier,
                                      sequencenumber, type, timestamp, payloadtype,
                                      payloadrevision, payload, metadata)
        SELECT row_number() OVER (ORDER BY transaction_id, id), event_id::text, stream_id,
               stream_version - 1, '%s',
               to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               '%s', NULL, convert_to(data::text, 'UTF8'), convert_to(metadata::text, 'UTF8')
          FROM event_store.events
        """
            .formatted(AxonPeer.AGGREGATE_TYPE, AxonPeer.PAYLOAD_TYPE));
    axon.execute(
        "SELECT setval(pg_get_serial_sequence('domainevententry', 'globalindex'),"
            + " (SELECT max(globalindex) FROM domainevententry))");
    axon.execute("VACUUM ANALYZE domainevententry");
  }

  /** Our events as Message DB rows: stream positions from 0, all in the category "fill". */
  private static void copyToMessageDb(MessageDbPeer messageDb) throws Exception {
    messageDb.execute(
        """
        INSERT INTO message_store.messages (global_position, position, time, stream_name, type,
                                            data, metadata, id)
        SELECT row_number() OVER (ORDER BY transaction_id, id), stream_version - 1,
               recorded_at AT TIME ZONE 'UTC', stream_id, type, data, metadata, event_id
          FROM event_store.events
        """);
    messageDb.execute(
        "SELECT setval(pg_get_serial_sequence('message_store.messages', 'global_position'),"
            + " (SELECT max(global_position) FROM message_store.messages))");
    messageDb.execute("VACUUM ANALYZE message_store.messages");
  }

  @Override
  Map<String, Contender> peers(BenchmarkDatabase database) throws Exception {
    Map<String, Contender> peers = new LinkedHashMap<>();
    peers.put("axon", ReadAllScenario::runAxon);
    if (database.messageDb().isPresent()) {
      peers.put("messagedb", ReadAllScenario::runMessageDb);
    }
    return peers;
  }

  private static Measurement runAxon(BenchmarkDatabase database) {
    long start = System.nanoTime();
    long[] read = new long[1];
    try (Stream<? extends TrackedEventMessage<?>> events = database.axon().readAfter(null)) {
      events.forEach(
          event -> {
            if (event.trackingToken() != null && !event.getIdentifier().isEmpty()) {
              read[0]++;
            }
          });
    }
    return Measurement.rate(check(read[0]) / ((System.nanoTime() - start) / 1e9));
  }

  /** A Message DB message as its functions return it. */
  private record Message(
      String id,
      String streamName,
      String type,
      long position,
      long globalPosition,
      String data,
      String metadata,
      Instant time) {}

  private static Measurement runMessageDb(BenchmarkDatabase database) throws Exception {
    long start = System.nanoTime();
    long read = 0;
    long from = 1; // get_category_messages reads from this global position on, inclusive
    try (Connection c = database.messageDb().orElseThrow().connection();
        PreparedStatement select =
            c.prepareStatement("SELECT * FROM get_category_messages('fill', ?, ?)")) {
      while (true) {
        select.setLong(1, from);
        select.setInt(2, PAGE);
        List<Message> messages = new ArrayList<>(PAGE);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            messages.add(
                new Message(
                    rows.getString("id"),
                    rows.getString("stream_name"),
                    rows.getString("type"),
                    rows.getLong("position"),
                    rows.getLong("global_position"),
                    rows.getString("data"),
                    rows.getString("metadata"),
                    rows.getObject("time", LocalDateTime.class).toInstant(ZoneOffset.UTC)));
          }
        }
        read += messages.size();
        if (messages.size() < PAGE) {
          break;
        }
        from = messages.get(messages.size() - 1).globalPosition() + 1;
      }
    }
    return Measurement.rate(check(read) / ((System.nanoTime() - start) / 1e9));
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
