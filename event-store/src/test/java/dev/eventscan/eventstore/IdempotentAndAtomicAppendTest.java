package dev.eventscan.eventstore;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.events;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.stream.AppendResult;
import dev.eventscan.eventstore.stream.DuplicateEventIdException;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.StreamAppend;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.testsupport.PostgresExtension;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class IdempotentAndAtomicAppendTest {
  private static EventStore store;

  @BeforeAll
  static void createStore(DataSource dataSource) {
    store = EventStore.builder(dataSource).build();
  }

  @Test
  void resending_the_same_events_with_the_same_expectation_returns_the_first_result() {
    String streamId = newStreamId("retry");
    List<EventData> batch = events("Paid", 3);

    AppendResult first = store.append(streamId, ExpectedVersion.noStream(), batch);
    AppendResult retry = store.append(streamId, ExpectedVersion.noStream(), batch);

    assertThat(retry).isEqualTo(first);
    assertThat(store.readStream(streamId).events()).hasSize(3);
  }

  @Test
  void resending_an_earlier_batch_after_later_appends_still_returns_its_first_result() {
    String streamId = newStreamId("retry");
    List<EventData> batch = events("Paid", 2);
    AppendResult first = store.append(streamId, ExpectedVersion.exactly(0), batch);
    store.append(streamId, ExpectedVersion.exactly(2), event("Later", 1));

    assertThat(store.append(streamId, ExpectedVersion.exactly(0), batch)).isEqualTo(first);
    assertThat(store.append(streamId, ExpectedVersion.any(), batch)).isEqualTo(first);
    assertThat(store.streamInfo(streamId).orElseThrow().version()).isEqualTo(3);
  }

  @Test
  void resending_the_same_ids_with_another_expectation_is_refused() {
    String streamId = newStreamId("retry");
    List<EventData> batch = events("Paid", 2);
    store.append(streamId, ExpectedVersion.noStream(), batch);

    assertThatThrownBy(() -> store.append(streamId, ExpectedVersion.exactly(2), batch))
        .isInstanceOfSatisfying(
            DuplicateEventIdException.class,
            e -> assertThat(e.eventId()).isEqualTo(batch.get(0).eventId()));
    assertThat(store.streamInfo(streamId).orElseThrow().version()).isEqualTo(2);
  }

  @Test
  void reusing_an_event_id_in_another_stream_is_refused_and_writes_nothing() {
    EventData reused = event("Paid", 1);
    store.append(newStreamId("first"), ExpectedVersion.any(), reused);
    String other = newStreamId("other");

    assertThatThrownBy(() -> store.append(other, ExpectedVersion.any(), reused))
        .isInstanceOf(DuplicateEventIdException.class);
    assertThatThrownBy(
            () -> store.append(other, ExpectedVersion.any(), List.of(event("New", 2), reused)))
        .isInstanceOfSatisfying(
            DuplicateEventIdException.class,
            e -> assertThat(e.eventId()).isEqualTo(reused.eventId()));
    assertThat(store.streamInfo(other)).isEmpty();
  }

  @Test
  void an_atomic_append_writes_to_every_stream_or_to_none() {
    String existing = newStreamId("account");
    store.append(existing, ExpectedVersion.noStream(), event("Opened", 1));
    String fresh = newStreamId("account");
    String other = newStreamId("ledger");

    assertThatThrownBy(
            () ->
                store.appendAtomically(
                    List.of(
                        StreamAppend.of(fresh, ExpectedVersion.noStream(), event("Opened", 2)),
                        StreamAppend.of(other, ExpectedVersion.noStream(), event("Booked", 3)),
                        StreamAppend.of(existing, ExpectedVersion.exactly(5), event("X", 4)))))
        .isInstanceOfSatisfying(
            WrongExpectedVersionException.class,
            e -> {
              assertThat(e.streamId()).isEqualTo(existing);
              assertThat(e.actualVersion()).isEqualTo(1);
            });
    assertThat(store.streamInfo(fresh)).isEmpty();
    assertThat(store.streamInfo(other)).isEmpty();
    assertThat(store.streamInfo(existing).orElseThrow().version()).isEqualTo(1);

    List<AppendResult> results =
        store.appendAtomically(
            List.of(
                StreamAppend.of(fresh, ExpectedVersion.noStream(), event("Opened", 2)),
                StreamAppend.of(existing, ExpectedVersion.exactly(1), event("Moved", 4))));
    assertThat(results).extracting(AppendResult::streamId).containsExactly(fresh, existing);
    assertThat(results).extracting(AppendResult::streamVersion).containsExactly(1L, 2L);
    assertThat(results.get(0).lastPosition().transactionId())
        .as("one transaction")
        .isEqualTo(results.get(1).lastPosition().transactionId());
  }
}
