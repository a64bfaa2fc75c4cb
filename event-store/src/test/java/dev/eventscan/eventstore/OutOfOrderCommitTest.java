package dev.eventscan.eventstore;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.insertFirstEvents;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Transaction A takes its event id first but commits last. A reader must not see B's later event
 * before A's, or it would checkpoint past A and never see it.
 */
@ExtendWith(PostgresExtension.class)
class OutOfOrderCommitTest {
  private static EventStore store;
  private static TestDatabase database;

  @BeforeAll
  static void createStore(TestDatabase testDatabase) {
    database = testDatabase;
    store = EventStore.builder(testDatabase.dataSource()).build();
  }

  @Test
  void read_all_holds_back_events_behind_an_open_transaction_and_skips_none() throws Exception {
    Position before = store.headPosition();
    String streamA = newStreamId("slow");
    String streamB = newStreamId("fast");

    try (Connection transactionA = database.openUnpooledConnection()) {
      transactionA.setAutoCommit(false);
      insertFirstEvents(transactionA, "Slow", streamA);

      store.append(streamB, ExpectedVersion.noStream(), event("Fast", 1));

      assertThat(store.readAll(before, 100).events())
          .as("B committed, but A is older and still open")
          .isEmpty();
      assertThat(store.headPosition()).isEqualTo(before);

      transactionA.commit();
    }

    List<RecordedEvent> events = store.readAll(before, 100).events();
    assertThat(events).extracting(RecordedEvent::streamId).containsExactly(streamA, streamB);
    assertThat(events.get(0).position()).isLessThan(events.get(1).position());
    assertThat(events.get(0).position().eventId())
        .as("A's id was handed out first")
        .isLessThan(events.get(1).position().eventId());
  }

  /**
   * A filtered read that finds nothing it wants moves its position up to the head below the
   * barrier, so a subscription's checkpoint passes events it does not want; that head must be read
   * in the page's snapshot, never past a wanted event still in flight.
   */
  @Test
  void a_filtered_read_moves_past_unwanted_events_but_not_past_a_wanted_one_in_flight()
      throws Exception {
    Position before = store.headPosition();
    String wanted = newStreamId("slow");
    EventFilter slowOnly = EventFilter.categories("slow");
    store.append(newStreamId("fast"), ExpectedVersion.noStream(), event("Fast", 1));
    Position next;
    try (Connection transactionA = database.openUnpooledConnection()) {
      transactionA.setAutoCommit(false);
      insertFirstEvents(transactionA, "Slow", wanted);
      store.append(newStreamId("fast"), ExpectedVersion.noStream(), event("Fast", 2));

      GlobalLogPage page = store.readAll(before, slowOnly, 100);
      assertThat(page.events()).isEmpty();
      assertThat(page.next()).as("past the first unwanted event").isGreaterThan(before);
      next = page.next();
      transactionA.commit();
    }

    assertThat(store.readAll(next, slowOnly, 100).events())
        .extracting(RecordedEvent::streamId)
        .containsExactly(wanted);
  }

  @Test
  void a_rolled_back_transaction_leaves_no_gap_that_stalls_readers() throws Exception {
    Position before = store.headPosition();
    String rolledBack = newStreamId("rolledback");
    String committed = newStreamId("committed");

    try (Connection transaction = database.openUnpooledConnection()) {
      transaction.setAutoCommit(false);
      insertFirstEvents(transaction, "Slow", rolledBack);
      transaction.rollback();
    }
    store.append(committed, ExpectedVersion.noStream(), event("Committed", 1));

    assertThat(store.readAll(before, 100).events())
        .extracting(RecordedEvent::streamId)
        .containsExactly(committed);
  }
}
