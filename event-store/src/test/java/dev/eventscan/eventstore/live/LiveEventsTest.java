package dev.eventscan.eventstore.live;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.events;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.Await;
import dev.eventscan.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class LiveEventsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void subscribers_joining_while_events_flow_get_each_later_event_once_in_order(
      DataSource dataSource) throws Exception {
    try (EventStore store = EventStore.builder(dataSource).build()) {
      String category = "live" + UUID.randomUUID().toString().substring(0, 8);
      List<Position> appended = new CopyOnWriteArrayList<>();
      Thread writer =
          new Thread(
              () -> {
                for (int i = 0; i < 300; i++) {
                  appended.add(
                      store
                          .append(
                              category + "-" + (i % 7), ExpectedVersion.any(), event("Flowed", i))
                          .lastPosition());
                }
              });
      writer.start();
      record Subscriber(Position after, List<RecordedEvent> received, LiveSubscription handle) {}
      List<Subscriber> subscribers = new ArrayList<>();
      while (writer.isAlive() || subscribers.size() < 8) {
        Position after =
            appended.isEmpty()
                ? Position.START
                : appended.get(ThreadLocalRandom.current().nextInt(appended.size()));
        List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
        LiveSubscription handle =
            store.live().subscribe(after, EventFilter.categories(category), received::add);
        subscribers.add(new Subscriber(after, received, handle));
        Thread.sleep(15); // spread the joins over the writer's run
      }
      writer.join();
      Position last = appended.get(appended.size() - 1);
      for (Subscriber subscriber : subscribers) {
        List<Position> expected = positionsAfter(store, category, subscriber.after());
        Await.until(
            "every event after " + subscriber.after(),
            WAIT,
            () -> subscriber.received().size() >= expected.size());
        assertThat(subscriber.received().stream().map(RecordedEvent::position).toList())
            .as("events after %s", subscriber.after())
            .isEqualTo(expected);
        assertThat(subscriber.handle().position()).isGreaterThanOrEqualTo(last);
      }
      assertThat(subscribers).hasSizeGreaterThan(5);
      subscribers.forEach(s -> s.handle().close());
      assertThat(store.live().subscribers()).isZero();
    }
  }

  /**
   * A listener that takes whole reads gets each event once, in order, in calls of several events
   * when they were committed together: what it missed before subscribing (read on the subscribing
   * thread), what came while it caught up, and what came after.
   */
  @Test
  void a_listener_taking_whole_reads_gets_each_event_once_in_order(DataSource dataSource)
      throws Exception {
    try (EventStore store = EventStore.builder(dataSource).build()) {
      String category = "reads" + UUID.randomUUID().toString().substring(0, 8);
      String other = "other" + UUID.randomUUID().toString().substring(0, 8);
      List<Position> appended = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        appended.add(
            store
                .append(category + "-before", ExpectedVersion.any(), events("Before", 40))
                .lastPosition());
        store.append(other + "-x", ExpectedVersion.any(), events("Other", 5));
      }
      List<List<RecordedEvent>> calls = new CopyOnWriteArrayList<>();
      LiveSubscription subscription =
          store
              .live()
              .subscribe(
                  Position.START,
                  EventFilter.categories(category),
                  new LiveListener() {
                    @Override
                    public void onEvent(RecordedEvent event) {
                      calls.add(List.of(event));
                    }

                    @Override
                    public void onEvents(List<RecordedEvent> events) {
                      calls.add(List.copyOf(events));
                    }
                  });
      for (int i = 0; i < 5; i++) {
        store.append(category + "-live", ExpectedVersion.any(), events("Live", 30));
        store.append(other + "-y", ExpectedVersion.any(), events("Other", 5));
      }
      List<Position> expected = positionsAfter(store, category, Position.START);
      assertThat(expected).hasSize(3 * 40 + 5 * 30);
      Await.until(
          "every event", WAIT, () -> calls.stream().mapToInt(List::size).sum() >= expected.size());
      assertThat(calls.stream().flatMap(List::stream).map(RecordedEvent::position).toList())
          .isEqualTo(expected);
      assertThat(calls).noneMatch(List::isEmpty);
      assertThat(calls)
          .as("one call per read, not per event")
          .hasSizeLessThan(expected.size() / 10);
      subscription.close();
    }
  }

  /**
   * An event committed while an older transaction still runs is held behind the barrier when the
   * hint arrives, and that transaction's commit sends no hint: the feed must look again by itself,
   * not wait for the next append or its poll (ten minutes here).
   */
  @Test
  void an_event_held_back_by_an_older_transaction_arrives_once_that_transaction_ends(
      DataSource dataSource) throws Exception {
    try (EventStore store =
        EventStore.builder(dataSource).pollInterval(Duration.ofMinutes(10)).build()) {
      String category = "held" + UUID.randomUUID().toString().substring(0, 8);
      List<RecordedEvent> received = new CopyOnWriteArrayList<>();
      store.live().subscribeFromNow(EventFilter.categories(category), received::add);
      store.append(category + "-warm", ExpectedVersion.noStream(), event("Warm", 0));
      Await.until("the first event", WAIT, () -> received.size() == 1);
      try (Connection older = dataSource.getConnection()) {
        older.setAutoCommit(false);
        try (Statement takeId = older.createStatement()) {
          takeId.execute("SELECT pg_current_xact_id()");
        }
        long readsBefore = store.live().reads();
        Position held =
            store
                .append(category + "-held", ExpectedVersion.noStream(), event("Held", 1))
                .lastPosition();
        Await.until("a read after the hint", WAIT, () -> store.live().reads() > readsBefore);
        assertThat(received).as("held behind the older transaction").hasSize(1);
        older.commit(); // sends no hint
        Await.until("the held event", WAIT, () -> received.size() == 2);
        assertThat(received.get(1).position()).isEqualTo(held);
      }
    }
  }

  /** The tailer waits for appends up to its 10-minute poll interval: closing ends the wait. */
  @Test
  @Timeout(120)
  void closing_the_store_ends_the_live_thread_and_tells_the_subscribers(DataSource dataSource) {
    EventStore store = EventStore.builder(dataSource).pollInterval(Duration.ofMinutes(10)).build();
    List<String> ended = new CopyOnWriteArrayList<>();
    store
        .live()
        .subscribeFromNow(
            EventFilter.all(),
            new LiveListener() {
              @Override
              public void onEvent(RecordedEvent event) {}

              @Override
              public void onClosed() {
                ended.add("closed");
              }
            });
    Await.until("the feed waiting for hints", WAIT, () -> store.live().reads() > 0);
    store.close();
    assertThat(ended).containsExactly("closed");
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().startsWith("event-store-live-"));
  }

  private static List<Position> positionsAfter(EventStore store, String category, Position after) {
    List<Position> positions = new ArrayList<>();
    Position from = after;
    while (true) {
      GlobalLogPage page = store.readAll(from, EventFilter.categories(category), 500);
      page.events().forEach(e -> positions.add(e.position()));
      if (page.endOfLog()) {
        return positions;
      }
      from = page.next();
    }
  }
}
