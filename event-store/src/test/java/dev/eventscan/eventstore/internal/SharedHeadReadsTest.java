package dev.eventscan.eventstore.internal;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.insertFirstEvents;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.Await;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class SharedHeadReadsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  /**
   * A reader that asks while a read runs is not made to wait for one more read when the running one
   * has events for it: they are a true page of the log (read from before its position).
   */
  @Test
  void a_reader_asking_while_a_read_runs_gets_its_events_from_that_read(TestDatabase database)
      throws Exception {
    EventStore store = EventStore.builder(database.dataSource()).build();
    SharedHeadReads shared =
        new SharedHeadReads(new LogHeadReader(database.dataSource(), store.schema()));
    String category = "late" + UUID.randomUUID().toString().substring(0, 8);
    EventFilter filter = EventFilter.categories(category);
    Position start = store.headPosition();
    store.append(newStreamId(category), ExpectedVersion.noStream(), event("E", 1));
    ExecutorService threads = Executors.newCachedThreadPool();
    try (Connection locker = database.openUnpooledConnection()) {
      // The first reader's read waits on a table lock while the second reader asks.
      locker.setAutoCommit(false);
      try (Statement lock = locker.createStatement()) {
        lock.execute("LOCK TABLE " + store.schema() + ".events IN ACCESS EXCLUSIVE MODE");
      }
      Future<SharedHeadReads.HeadPage> first =
          threads.submit(() -> shared.readAll(start, filter, 10));
      Await.until(
          "the first read waits on the lock", WAIT, () -> readsWaitingOnLocks(database) == 1);
      Future<SharedHeadReads.HeadPage> late =
          threads.submit(() -> shared.readAll(start, filter, 10));
      Await.until("the second reader waits", WAIT, () -> shared.waitingReaders() == 1);
      locker.rollback();

      assertThat(first.get(30, TimeUnit.SECONDS).page().events()).hasSize(1);
      assertThat(late.get(30, TimeUnit.SECONDS).page().events()).hasSize(1);
      assertThat(shared.reads()).as("reads of the log").isEqualTo(1);
    } finally {
      threads.shutdownNow();
      store.close();
    }
  }

  private static int readsWaitingOnLocks(TestDatabase database) {
    try (Connection admin = database.openUnpooledConnection();
        Statement s = admin.createStatement();
        ResultSet row =
            s.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    + " AND datname = current_database() AND query LIKE 'SELECT%'")) {
      row.next();
      return row.getInt(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Readers with different filters and page sizes tail the log through shared reads while writers
   * append and other transactions commit out of order: each reader gets exactly the events its own
   * reads would have given it, each once, in the global order.
   */
  @Test
  void readers_sharing_reads_at_the_head_each_get_their_events_once_in_order(TestDatabase database)
      throws Exception {
    EventStore store = EventStore.builder(database.dataSource()).build();
    SharedHeadReads shared = ((PostgresEventStore) store).headReads();
    String a = "a" + UUID.randomUUID().toString().substring(0, 8);
    String b = "b" + UUID.randomUUID().toString().substring(0, 8);
    List<EventFilter> filters =
        List.of(
            EventFilter.categories(a, b),
            EventFilter.categories(a),
            EventFilter.categories(b).andTypes("Even"),
            EventFilter.categories(a, b).inSegment(new StreamSegment(0, 3)),
            EventFilter.categories(a, b).inSegment(new StreamSegment(1, 3)),
            EventFilter.categories(a, b).inSegment(new StreamSegment(2, 3)));
    Position start = store.headPosition();
    AtomicBoolean writing = new AtomicBoolean(true);
    ExecutorService threads = Executors.newCachedThreadPool();
    try {
      List<Future<List<RecordedEvent>>> readers = new ArrayList<>();
      for (int i = 0; i < filters.size(); i++) {
        EventFilter filter = filters.get(i);
        int pageSize = 3 + 4 * i;
        readers.add(threads.submit(() -> tail(store, shared, filter, pageSize, start, writing)));
      }
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < 3; w++) {
        writers.add(
            threads.submit(
                () -> {
                  for (int n = 0; n < 150; n++) {
                    String category = ThreadLocalRandom.current().nextBoolean() ? a : b;
                    store.append(
                        newStreamId(category),
                        ExpectedVersion.noStream(),
                        event(n % 2 == 0 ? "Even" : "Odd", n));
                  }
                  return null;
                }));
      }
      writers.add(
          threads.submit(
              () -> {
                for (int n = 0; n < 15; n++) {
                  commitLate(database, newStreamId(n % 2 == 0 ? a : b));
                }
                return null;
              }));
      for (Future<?> writer : writers) {
        writer.get(60, TimeUnit.SECONDS);
      }
      writing.set(false);

      for (int i = 0; i < filters.size(); i++) {
        List<RecordedEvent> got = readers.get(i).get(60, TimeUnit.SECONDS);
        List<RecordedEvent> expected = readAlone(store, filters.get(i), start);
        assertThat(got).as("reader %d", i).isNotEmpty();
        assertThat(got)
            .as("reader %d with %s", i, filters.get(i))
            .extracting(RecordedEvent::eventId)
            .containsExactlyElementsOf(expected.stream().map(RecordedEvent::eventId).toList());
      }
    } finally {
      threads.shutdownNow();
      store.close();
    }
  }

  /** The shared read also says when committed events wait behind an older open transaction. */
  @Test
  void a_shared_read_says_when_committed_events_are_held_back(TestDatabase database)
      throws Exception {
    EventStore store = EventStore.builder(database.dataSource()).build();
    SharedHeadReads shared = ((PostgresEventStore) store).headReads();
    Position start = store.headPosition();
    try (Connection older = database.openUnpooledConnection()) {
      older.setAutoCommit(false);
      insertFirstEvents(older, "Slow", newStreamId("held"));
      assertThat(shared.readAll(start, EventFilter.all(), 10).heldBack()).isFalse();

      store.append(newStreamId("held"), ExpectedVersion.noStream(), event("Fast", 1));
      SharedHeadReads.HeadPage held = shared.readAll(start, EventFilter.all(), 10);
      assertThat(held.page().events()).isEmpty();
      assertThat(held.page().endOfLog()).isTrue();
      assertThat(held.heldBack()).isTrue();
      older.commit();
    }
    SharedHeadReads.HeadPage released = shared.readAll(start, EventFilter.all(), 10);
    assertThat(released.page().events()).hasSize(2);
    assertThat(released.heldBack()).isFalse();
    store.close();
  }

  /** Reads on from {@code start} until the writers are done and the log's end is reached. */
  private static List<RecordedEvent> tail(
      EventStore store,
      SharedHeadReads shared,
      EventFilter filter,
      int pageSize,
      Position start,
      AtomicBoolean writing) {
    List<RecordedEvent> seen = new ArrayList<>();
    Position position = start;
    while (true) {
      boolean last = !writing.get();
      GlobalLogPage page = shared.readAll(position, filter, pageSize).page();
      seen.addAll(page.events());
      assertThat(page.next()).isGreaterThanOrEqualTo(position);
      position = page.next();
      if (last && page.endOfLog() && position.compareTo(store.headPosition(filter)) >= 0) {
        return seen;
      }
    }
  }

  private static List<RecordedEvent> readAlone(
      EventStore store, EventFilter filter, Position from) {
    List<RecordedEvent> all = new ArrayList<>();
    GlobalLogPage page;
    do {
      page = store.readAll(from, filter, 100);
      all.addAll(page.events());
      from = page.next();
    } while (!page.endOfLog());
    return all;
  }

  /** An event that takes its id now and commits 20 ms later, behind younger appends. */
  private static void commitLate(TestDatabase database, String streamId) throws Exception {
    try (Connection transaction = database.openUnpooledConnection()) {
      transaction.setAutoCommit(false);
      insertFirstEvents(transaction, "Even", streamId);
      Thread.sleep(20);
      transaction.commit();
    }
  }
}
