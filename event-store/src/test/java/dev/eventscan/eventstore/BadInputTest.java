package dev.eventscan.eventstore;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.position.InvalidPositionException;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.StreamAppend;
import dev.eventscan.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad input is refused with a message naming the problem, and nothing is written. */
@ExtendWith(PostgresExtension.class)
class BadInputTest {
  private static final int MAX_DATA_BYTES = 1024;
  private static EventStore store;
  private static DataSource dataSource;

  @BeforeAll
  static void createStore(DataSource source) {
    dataSource = source;
    store = EventStore.builder(source).maxEventDataBytes(MAX_DATA_BYTES).build();
  }

  static Stream<Arguments> badAppends() {
    String valid = newStreamId("valid");
    return Stream.of(
        Arguments.of("null stream id", null, List.of(event("E", 1)), "stream id must not be blank"),
        Arguments.of("blank stream id", "  ", List.of(event("E", 1)), "must not be blank"),
        Arguments.of("over-long stream id", "s".repeat(201), List.of(event("E", 1)), "at most 200"),
        Arguments.of(
            "control character in stream id",
            "bad-\u0000id",
            List.of(event("E", 1)),
            "control characters"),
        Arguments.of("empty event list", valid, List.of(), "at least one event"),
        Arguments.of("null event list", valid, null, "at least one event"),
        Arguments.of("null event", valid, Arrays.asList((EventData) null), "must not be null"),
        Arguments.of(
            "null type",
            valid,
            List.of(new EventData(UUID.randomUUID(), null, "{}", null)),
            "type must not be null"),
        Arguments.of(
            "control character in type",
            valid,
            List.of(EventData.of("Bad\nType", "{}")),
            "type must not contain control characters"),
        Arguments.of(
            "null event id",
            valid,
            List.of(new EventData(null, "E", "{}", null)),
            "event id must not be null"),
        Arguments.of(
            "null data",
            valid,
            List.of(new EventData(UUID.randomUUID(), "E", null, null)),
            "data must not be null"),
        Arguments.of(
            "data over the size limit",
            valid,
            List.of(EventData.of("E", "{\"x\":\"" + "é".repeat(MAX_DATA_BYTES) + "\"}")),
            "larger than the limit of 1024 bytes"),
        Arguments.of("the same id twice in a batch", valid, twice(event("E", 1)), "appears twice"),
        Arguments.of(
            "data that is not JSON",
            valid,
            List.of(event("E", 1), EventData.of("E", "{not json")),
            "not valid JSON"),
        Arguments.of(
            "JSON with a NUL character PostgreSQL cannot store",
            valid,
            List.of(EventData.of("E", "{\"x\":\"\\u0000\"}")),
            "NUL character"),
        Arguments.of(
            "data with a raw NUL character",
            valid,
            List.of(EventData.of("E", "{\"x\":\"a\u0000b\"}")),
            "NUL character"),
        Arguments.of(
            "more events than one append may hold",
            valid,
            java.util.Collections.nCopies(10_001, (Object) null).stream()
                .map(n -> EventData.of("E", "{}"))
                .toList(),
            "at most 10000 events"),
        Arguments.of(
            "metadata over its limit",
            valid,
            List.of(
                EventData.of(
                    "E", "{}", new EventMetadata(null, null, Map.of("big", "m".repeat(20_000))))),
            "metadata is larger than the limit"));
  }

  private static List<EventData> twice(EventData event) {
    List<EventData> list = new ArrayList<>();
    list.add(event);
    list.add(event);
    return list;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badAppends")
  void a_bad_append_is_refused_and_writes_nothing(
      String description, String streamId, List<EventData> events, String message)
      throws SQLException {
    long eventsBefore = count("events");
    long streamsBefore = count("streams");

    assertThatThrownBy(() -> store.append(streamId, ExpectedVersion.any(), events))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(message);
    assertThatThrownBy(
            () ->
                store.appendAtomically(
                    List.of(
                        StreamAppend.of(newStreamId("ok"), ExpectedVersion.any(), event("E", 9)),
                        new StreamAppend(streamId, ExpectedVersion.any(), events))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining(message);

    assertThat(count("events")).isEqualTo(eventsBefore);
    assertThat(count("streams")).isEqualTo(streamsBefore);
  }

  @Test
  void other_bad_arguments_are_refused_with_typed_exceptions() {
    String streamId = newStreamId("valid");
    assertThatThrownBy(() -> store.append(streamId, null, List.of(event("E", 1))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("expected version");
    assertThatThrownBy(() -> ExpectedVersion.exactly(-1)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> store.readStream(streamId, 1, 0, ReadDirection.FORWARDS))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("maxCount");
    assertThatThrownBy(() -> store.readAll(null, 10))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("position");
    assertThatThrownBy(() -> Position.parse("12/x"))
        .isInstanceOf(InvalidPositionException.class)
        .hasMessageContaining("<transactionId>-<eventId>");
    assertThatThrownBy(() -> new EventMetadata(null, null, Map.of("correlationId", "x")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("reserved");
    assertThatThrownBy(
            () ->
                store.appendAtomically(
                    List.of(
                        StreamAppend.of(streamId, ExpectedVersion.any(), event("E", 1)),
                        StreamAppend.of(streamId, ExpectedVersion.any(), event("E", 2)))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("appears twice");
    assertThat(store.streamInfo(streamId)).isEmpty();
  }

  @Test
  void nul_characters_and_overlong_schema_names_are_refused_before_postgresql_sees_them() {
    assertThatThrownBy(() -> new EventMetadata("corr\u0000", null, Map.of()))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("NUL");
    assertThatThrownBy(() -> new EventMetadata(null, null, Map.of("k", "v\u0000")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("NUL");
    assertThatThrownBy(
            () -> store.readAll(Position.START, EventFilter.categories("scan\u0000"), 10))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("control characters");
    assertThatThrownBy(() -> EventFilter.types("")).isInstanceOf(InvalidInputException.class);
    // The notification channel <schema>_appended must fit PostgreSQL's 63-byte names.
    assertThatThrownBy(() -> EventStore.builder(dataSource).schema("s".repeat(55)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("{0,53}");
    EventStore.builder(dataSource).schema("s".repeat(54));
  }

  private static long count(String table) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM event_store." + table)) {
      r.next();
      return r.getLong(1);
    }
  }
}
