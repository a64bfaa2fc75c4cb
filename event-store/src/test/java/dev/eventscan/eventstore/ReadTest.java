package dev.eventscan.eventstore;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.events;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamDeletedException;
import dev.eventscan.eventstore.stream.StreamInfo;
import dev.eventscan.eventstore.stream.StreamNotFoundException;
import dev.eventscan.eventstore.stream.StreamQuery;
import dev.eventscan.eventstore.stream.StreamReader;
import dev.eventscan.eventstore.stream.StreamSlice;
import dev.eventscan.testsupport.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class ReadTest {
  private static EventStore store;

  @BeforeAll
  static void createStore(DataSource dataSource) {
    store = EventStore.builder(dataSource).build();
  }

  @Test
  void a_stream_reads_forwards_and_backwards_from_a_version_in_pages() {
    String streamId = newStreamId("order");
    store.append(streamId, ExpectedVersion.noStream(), events("Line", 10));

    StreamSlice forwards = store.readStream(streamId, 4, 3, ReadDirection.FORWARDS);
    assertThat(forwards.events())
        .extracting(RecordedEvent::streamVersion)
        .containsExactly(4L, 5L, 6L);
    assertThat(forwards.endOfStream()).isFalse();
    assertThat(forwards.nextVersion(ReadDirection.FORWARDS)).isEqualTo(7);

    StreamSlice tail = store.readStream(streamId, 9, 5, ReadDirection.FORWARDS);
    assertThat(tail.events()).extracting(RecordedEvent::streamVersion).containsExactly(9L, 10L);
    assertThat(tail.endOfStream()).isTrue();

    StreamSlice backwards =
        store.readStream(streamId, StreamReader.END_OF_STREAM, 4, ReadDirection.BACKWARDS);
    assertThat(backwards.events())
        .extracting(RecordedEvent::streamVersion)
        .containsExactly(10L, 9L, 8L, 7L);
    assertThat(backwards.streamVersion()).isEqualTo(10);
    StreamSlice start = store.readStream(streamId, 2, 4, ReadDirection.BACKWARDS);
    assertThat(start.events()).extracting(RecordedEvent::streamVersion).containsExactly(2L, 1L);
    assertThat(start.endOfStream()).isTrue();
  }

  @Test
  void recorded_events_carry_what_was_appended() {
    String streamId = newStreamId("order");
    EventData appended =
        EventData.of(
            "Placed",
            "{\"total\": 42}",
            new EventMetadata("corr-1", "cause-1", Map.of("user", "ada")));
    var result = store.append(streamId, ExpectedVersion.noStream(), appended);

    RecordedEvent read = store.readStream(streamId).events().get(0);
    assertThat(read.eventId()).isEqualTo(appended.eventId());
    assertThat(read.type()).isEqualTo("Placed");
    assertThat(read.data()).isEqualTo("{\"total\": 42}");
    assertThat(read.metadata()).isEqualTo(appended.metadata());
    assertThat(read.position()).isEqualTo(result.lastPosition());
    assertThat(read.category()).isEqualTo("order");
    assertThat(read.recordedAt()).isNotNull();
  }

  @Test
  void a_missing_stream_reads_as_empty_and_has_no_info() {
    String streamId = newStreamId("nothing");
    StreamSlice slice = store.readStream(streamId);
    assertThat(slice.events()).isEmpty();
    assertThat(slice.streamVersion()).isZero();
    assertThat(slice.endOfStream()).isTrue();
    assertThat(store.streamInfo(streamId)).isEmpty();
  }

  @Test
  void read_all_pages_through_the_log_in_order_with_type_and_category_filters() {
    Position start = store.headPosition();
    List<String> appended = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String cart = newStreamId("cart");
      String user = newStreamId("user");
      store.append(cart, ExpectedVersion.noStream(), event("CartOpened", i), event("ItemAdded", i));
      store.append(user, ExpectedVersion.noStream(), event("UserJoined", i));
      appended.addAll(List.of(cart + "/CartOpened", cart + "/ItemAdded", user + "/UserJoined"));
    }

    assertThat(readEverything(start, EventFilter.all(), 4))
        .extracting(e -> e.streamId() + "/" + e.type())
        .containsExactlyElementsOf(appended);
    assertThat(readEverything(start, EventFilter.categories("cart"), 3))
        .hasSize(10)
        .allMatch(e -> e.category().equals("cart"));
    assertThat(readEverything(start, EventFilter.types("ItemAdded", "UserJoined"), 2))
        .hasSize(10)
        .noneMatch(e -> e.type().equals("CartOpened"));
    assertThat(readEverything(start, EventFilter.categories("cart").andTypes("ItemAdded"), 2))
        .hasSize(5)
        .allMatch(e -> e.type().equals("ItemAdded"));
    assertThat(store.headPosition())
        .isEqualTo(readEverything(start, EventFilter.all(), 50).get(14).position());
  }

  @Test
  void the_log_pages_backwards_newest_first_with_filters() {
    String category = "back" + Long.toHexString(System.nanoTime());
    String streamId = category + "-1";
    store.append(streamId, ExpectedVersion.noStream(), events("Even", 1));
    store.append(streamId, ExpectedVersion.exactly(1), events("Odd", 1));
    store.append(streamId, ExpectedVersion.exactly(2), events("Even", 1));
    store.append(streamId, ExpectedVersion.exactly(3), events("Odd", 1));
    EventFilter mine = EventFilter.categories(category);

    List<RecordedEvent> newest = store.readBackwards(Position.END, mine, 3);
    assertThat(newest).extracting(RecordedEvent::streamVersion).containsExactly(4L, 3L, 2L);
    List<RecordedEvent> older = store.readBackwards(newest.get(2).position(), mine, 3);
    assertThat(older).extracting(RecordedEvent::streamVersion).containsExactly(1L);
    assertThat(store.readBackwards(Position.END, mine.andTypes("Even"), 10))
        .extracting(RecordedEvent::streamVersion)
        .containsExactly(3L, 1L);
    assertThat(store.readBackwards(older.get(0).position(), mine, 10)).isEmpty();
  }

  @Test
  void streams_list_newest_first_by_prefix_and_category_in_pages() {
    String category = "list" + Long.toHexString(System.nanoTime());
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = category + "-" + (i % 2 == 0 ? "even" : "odd") + i;
      store.append(id, ExpectedVersion.noStream(), events("Made", i + 1));
      ids.add(id);
    }
    store.deleteStream(ids.get(0), ExpectedVersion.any());
    StreamQuery mine = StreamQuery.newestFirst(2).inCategory(category);

    List<StreamInfo> first = store.listStreams(mine);
    assertThat(first).extracting(StreamInfo::streamId).containsExactly(ids.get(4), ids.get(3));
    assertThat(first.get(0).version()).isEqualTo(5);
    List<StreamInfo> second = store.listStreams(mine.after(StreamQuery.Cursor.after(first.get(1))));
    assertThat(second).extracting(StreamInfo::streamId).containsExactly(ids.get(2), ids.get(1));
    List<StreamInfo> last = store.listStreams(mine.after(StreamQuery.Cursor.after(second.get(1))));
    assertThat(last).extracting(StreamInfo::streamId).containsExactly(ids.get(0));
    assertThat(last.get(0).deleted()).isTrue();

    assertThat(store.listStreams(StreamQuery.newestFirst(10).withIdPrefix(category + "-even")))
        .extracting(StreamInfo::streamId)
        .containsExactly(ids.get(4), ids.get(2), ids.get(0));
    // LIKE's wildcards mean themselves in a prefix.
    assertThat(store.listStreams(StreamQuery.newestFirst(10).withIdPrefix(category + "-%")))
        .isEmpty();
    assertThatThrownBy(() -> StreamQuery.newestFirst(0)).isInstanceOf(InvalidInputException.class);
    assertThatThrownBy(() -> StreamQuery.newestFirst(5).withIdPrefix("a\u0000"))
        .isInstanceOf(InvalidInputException.class);
  }

  @Test
  void read_all_from_the_end_marker_returns_nothing() {
    store.append(newStreamId("any"), ExpectedVersion.any(), event("E", 1));
    GlobalLogPage page = store.readAll(Position.END, 10);
    assertThat(page.events()).isEmpty();
    assertThat(page.endOfLog()).isTrue();
    assertThat(page.next()).isEqualTo(Position.END);
  }

  @Test
  void a_deleted_stream_refuses_reads_and_appends_but_keeps_its_events_in_the_log() {
    Position start = store.headPosition();
    String streamId = newStreamId("closed");
    store.append(streamId, ExpectedVersion.noStream(), events("E", 2));
    StreamInfo before = store.streamInfo(streamId).orElseThrow();
    assertThat(before.deleted()).isFalse();
    assertThat(before.version()).isEqualTo(2);
    assertThat(before.createdAt()).isBeforeOrEqualTo(before.updatedAt());

    store.deleteStream(streamId, ExpectedVersion.exactly(2));

    StreamInfo after = store.streamInfo(streamId).orElseThrow();
    assertThat(after.deleted()).isTrue();
    assertThat(after.version()).isEqualTo(2);
    assertThatThrownBy(() -> store.readStream(streamId))
        .isInstanceOf(StreamDeletedException.class)
        .hasMessageContaining(streamId);
    assertThatThrownBy(() -> store.deleteStream(streamId, ExpectedVersion.any()))
        .isInstanceOf(StreamDeletedException.class);
    assertThatThrownBy(() -> store.deleteStream(newStreamId("never"), ExpectedVersion.any()))
        .isInstanceOf(StreamNotFoundException.class);
    assertThat(readEverything(start, EventFilter.all(), 10))
        .as("global readers learn of the deletion from its tombstone")
        .extracting(RecordedEvent::type)
        .containsExactly("E", "E", "$stream-deleted");
  }

  @Test
  void a_delete_racing_an_append_for_the_same_version_lets_only_one_win() {
    String streamId = newStreamId("raced");
    store.append(streamId, ExpectedVersion.noStream(), events("E", 2));
    store.deleteStream(streamId, ExpectedVersion.exactly(2));

    assertThatThrownBy(() -> store.append(streamId, ExpectedVersion.exactly(2), event("Late", 3)))
        .isInstanceOf(StreamDeletedException.class);
    assertThatThrownBy(
            () ->
                store.append(
                    newStreamId("x"), ExpectedVersion.any(), EventData.of("$stream-deleted", "{}")))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("reserved");
  }

  private static List<RecordedEvent> readEverything(Position from, EventFilter filter, int page) {
    List<RecordedEvent> all = new ArrayList<>();
    Position after = from;
    GlobalLogPage current;
    do {
      current = store.readAll(after, filter, page);
      all.addAll(current.events());
      after = current.next();
    } while (!current.endOfLog());
    return all;
  }
}
