package dev.eventscan.eventstore.subscription;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.insertFirstEvents;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.NotifyMode;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.internal.AppendSignal;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.AppendResult;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class SubscriptionTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static EventStore store;
  private static TestDatabase database;
  private final List<Subscription> started = new ArrayList<>();

  @BeforeAll
  static void createStore(TestDatabase testDatabase) {
    database = testDatabase;
    store = EventStore.builder(testDatabase.dataSource()).build();
  }

  @AfterEach
  void stopSubscriptions() {
    started.forEach(Subscription::stop);
  }

  private SubscriptionOptions options(String category) {
    return SubscriptionOptions.named("test-" + UUID.randomUUID())
        .filter(EventFilter.categories(category))
        .pollInterval(Duration.ofMillis(200))
        .standbyInterval(Duration.ofMillis(200))
        .retryPolicy(new RetryPolicy(3, Duration.ofMillis(10), 2, Duration.ofMillis(50)));
  }

  private Subscription track(Subscription subscription) {
    started.add(subscription);
    return subscription;
  }

  private static List<String> appendEvents(String category, int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      AppendResult result =
          store.append(newStreamId(category), ExpectedVersion.noStream(), event("Happened", i));
      ids.add(result.streamId());
    }
    return ids;
  }

  @Test
  void catches_up_then_delivers_live_events_in_order() {
    String category = "c" + UUID.randomUUID().toString().substring(0, 8);
    List<String> expected = new ArrayList<>(appendEvents(category, 30));
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    Subscriptions subscriptions = new Subscriptions(store);
    track(subscriptions.start(options(category), received::add));

    Await.until("catch-up", WAIT, () -> received.size() == 30);
    expected.addAll(appendEvents(category, 20));
    Await.until("live events", WAIT, () -> received.size() == 50);

    assertThat(received).extracting(RecordedEvent::streamId).containsExactlyElementsOf(expected);
    assertThat(received).extracting(RecordedEvent::position).isSorted();
  }

  @Test
  void an_out_of_order_commit_is_not_skipped_by_a_live_subscription() throws Exception {
    String category = "ooo" + UUID.randomUUID().toString().substring(0, 8);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    Subscription subscription =
        track(new Subscriptions(store).start(options(category), received::add));
    Await.until("running", WAIT, () -> subscription.state() == SubscriptionState.RUNNING);

    String slow = newStreamId(category);
    String fast = newStreamId(category);
    try (Connection transaction = database.openUnpooledConnection()) {
      transaction.setAutoCommit(false);
      insertFirstEvents(transaction, "Slow", slow);
      store.append(fast, ExpectedVersion.noStream(), event("Fast", 1));
      Thread.sleep(600); // three poll intervals: the subscription must hold back "fast"
      assertThat(received).isEmpty();
      transaction.commit();
    }

    Await.until("both events", WAIT, () -> received.size() == 2);
    assertThat(received).extracting(RecordedEvent::streamId).containsExactly(slow, fast);
  }

  /**
   * An event held back by an older transaction is let through by that transaction's commit, which
   * sends no notification: the subscription looks again soon rather than at its next poll.
   */
  @Test
  void an_event_held_back_by_another_transaction_is_delivered_soon_after_it_commits()
      throws Exception {
    String category = "held" + UUID.randomUUID().toString().substring(0, 8);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    Duration poll = Duration.ofSeconds(60);
    Subscription subscription =
        track(new Subscriptions(store).start(options(category).pollInterval(poll), received::add));
    Await.until("running", WAIT, () -> subscription.state() == SubscriptionState.RUNNING);

    long committedAt;
    try (Connection older = database.openUnpooledConnection()) {
      older.setAutoCommit(false);
      try (Statement takeTransactionId = older.createStatement()) {
        takeTransactionId.execute("SELECT pg_current_xact_id()");
      }
      store.append(newStreamId(category), ExpectedVersion.noStream(), event("Held", 1));
      Thread.sleep(300); // the notification came and went; the event stays held back
      assertThat(received).isEmpty();
      older.commit();
      committedAt = System.nanoTime();
    }

    Await.until("the held event", WAIT, () -> received.size() == 1);
    assertThat(Duration.ofNanos(System.nanoTime() - committedAt)).isLessThan(poll.dividedBy(2));
  }

  @Test
  void killing_the_listening_connection_loses_nothing_and_keeps_order() throws Exception {
    String category = "kill" + UUID.randomUUID().toString().substring(0, 8);
    SubscriptionOptions options = options(category);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    Subscription subscription = track(new Subscriptions(store).start(options, received::add));
    List<String> expected = new ArrayList<>(appendEvents(category, 20));
    Await.until("first events", WAIT, () -> received.size() == 20);

    assertThat(terminateLockHolder(options.name())).isEqualTo(1);
    expected.addAll(appendEvents(category, 20));

    Await.until("events after the kill", WAIT, () -> received.size() >= 40);
    assertThat(received).extracting(RecordedEvent::streamId).containsExactlyElementsOf(expected);
    assertThat(subscription.state()).isEqualTo(SubscriptionState.RUNNING);
  }

  @Test
  void without_notifications_another_processes_appends_arrive_by_polling() throws Exception {
    String category = "poll" + UUID.randomUUID().toString().substring(0, 8);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    try (EventStore silent =
        EventStore.builder(database.dataSource()).notifyMode(NotifyMode.NONE).build()) {
      track(new Subscriptions(store).start(options(category), received::add)).caughtUp().get();
      for (int i = 0; i < 5; i++) {
        silent.append(newStreamId(category), ExpectedVersion.noStream(), event("Quiet", i));
      }
      Await.until("polled events", WAIT, () -> received.size() == 5);
    }
  }

  @Test
  void an_append_wakes_the_same_stores_subscriptions_at_its_commit_without_a_notification()
      throws Exception {
    String category = "local" + UUID.randomUUID().toString().substring(0, 8);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    try (EventStore silent =
        EventStore.builder(database.dataSource()).notifyMode(NotifyMode.NONE).build()) {
      track(
              new Subscriptions(silent)
                  .start(options(category).pollInterval(Duration.ofSeconds(30)), received::add))
          .caughtUp()
          .get();
      silent.append(newStreamId(category), ExpectedVersion.noStream(), event("Local", 1));
      // Far below the 30 s poll interval, and no NOTIFY was sent: only the commit woke it.
      Await.until("the event", Duration.ofSeconds(10), () -> received.size() == 1);
    }
  }

  @Test
  void another_processes_append_wakes_subscriptions_through_its_notification() throws Exception {
    String category = "remote" + UUID.randomUUID().toString().substring(0, 8);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    track(
            new Subscriptions(store)
                .start(options(category).pollInterval(Duration.ofSeconds(30)), received::add))
        .caughtUp()
        .get();
    try (EventStore otherProcess = EventStore.builder(database.dataSource()).build()) {
      otherProcess.append(newStreamId(category), ExpectedVersion.noStream(), event("Far", 1));
      Await.until("the notified event", Duration.ofSeconds(10), () -> received.size() == 1);

      // The store's one listening connection dies: it listens again and its readers look once.
      assertThat(terminateAppendListeners()).isPositive();
      otherProcess.append(newStreamId(category), ExpectedVersion.noStream(), event("Far", 2));
      Await.until("the event after", Duration.ofSeconds(10), () -> received.size() == 2);
    }
  }

  @Test
  void notifying_inside_the_append_transaction_delivers_too() {
    String category = "intx" + UUID.randomUUID().toString().substring(0, 8);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    try (EventStore notifying =
        EventStore.builder(database.dataSource()).notifyMode(NotifyMode.IN_TRANSACTION).build()) {
      track(
          new Subscriptions(notifying)
              .start(options(category).pollInterval(Duration.ofSeconds(30)), received::add));
      Await.until(
          "running",
          WAIT,
          () -> started.get(started.size() - 1).state() == SubscriptionState.RUNNING);
      notifying.append(newStreamId(category), ExpectedVersion.noStream(), event("Loud", 1));
      // Far below the 30 s poll interval: only the notification can explain the delivery.
      Await.until("notified event", Duration.ofSeconds(10), () -> received.size() == 1);
    }
  }

  @Test
  void a_restarted_transactional_subscription_resumes_from_its_checkpoint_exactly_once()
      throws Exception {
    String category = "tx" + UUID.randomUUID().toString().substring(0, 8);
    String table = table("seen_" + category, "event_id uuid PRIMARY KEY, seq bigserial");
    SubscriptionOptions options = options(category).batchSize(7);
    TransactionalEventHandler intoTable =
        (event, tx) -> {
          try (PreparedStatement insert =
              tx.prepareStatement("INSERT INTO " + table + " (event_id) VALUES (?)")) {
            insert.setObject(1, event.eventId());
            insert.executeUpdate(); // a second delivery would violate the primary key
          }
        };
    appendEvents(category, 40);
    Subscription first = new Subscriptions(store).startTransactional(options, intoTable);
    Await.until("some events", WAIT, () -> count(table) >= 10);
    first.stop();
    long afterStop = count(table);
    assertThat(new Subscriptions(store).status(options.name()).orElseThrow().state())
        .isEqualTo(SubscriptionState.STOPPED);

    appendEvents(category, 10);
    Subscription second = track(new Subscriptions(store).startTransactional(options, intoTable));
    Await.until("all events", WAIT, () -> count(table) == 50);

    assertThat(afterStop).isLessThanOrEqualTo(50);
    // At its last event or beyond: a filtered subscription also moves past others' events. Waited
    // for: the rows are visible once the batch's COMMIT is, a moment before the worker takes note
    // of its new position (a load of 10 once caught it one batch behind).
    Position last = lastPositionOf(category);
    Await.until(
        "the position at the last event", WAIT, () -> second.position().compareTo(last) >= 0);
    assertThat(new Subscriptions(store).failures(ParkedFailure.OPEN, 10)).isEmpty();
  }

  /**
   * A batch's checkpoint moves by compare-and-set in the statement that also commits: when another
   * process moved the checkpoint meanwhile, nothing of the batch may commit, and the worker goes on
   * from where the checkpoint now is.
   */
  @Test
  void a_batch_whose_checkpoint_moved_meanwhile_commits_nothing() throws Exception {
    String category = "moved" + UUID.randomUUID().toString().substring(0, 8);
    String table = table("seen_" + category, "stream_id text PRIMARY KEY");
    List<String> streams = new ArrayList<>();
    List<Position> positions = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      AppendResult appended =
          store.append(newStreamId(category), ExpectedVersion.noStream(), event("Happened", i));
      streams.add(appended.streamId());
      positions.add(appended.lastPosition());
    }
    CountDownLatch inFirstBatch = new CountDownLatch(1);
    CountDownLatch checkpointMoved = new CountDownLatch(1);
    TransactionalEventHandler intoTable =
        (event, tx) -> {
          try (PreparedStatement insert =
              tx.prepareStatement("INSERT INTO " + table + " VALUES (?)")) {
            insert.setString(1, event.streamId());
            insert.executeUpdate(); // a second delivery would violate the primary key
          }
          if (inFirstBatch.getCount() > 0) {
            inFirstBatch.countDown();
            checkpointMoved.await();
          }
        };
    SubscriptionOptions options = options(category);
    track(new Subscriptions(store).startTransactional(options, intoTable));
    assertThat(inFirstBatch.await(30, TimeUnit.SECONDS)).isTrue();
    Position fifth = positions.get(4);
    execute(
        "UPDATE event_store.subscriptions SET transaction_id = '%s'::xid8, event_id = %d WHERE name = '%s'"
            .formatted(fifth.transactionIdText(), fifth.eventId(), options.name()));
    checkpointMoved.countDown();

    Await.until("the events after the fifth", WAIT, () -> count(table) == 15);
    Thread.sleep(300); // a wrongly committed first batch would show up as more rows or a failure
    try (Connection c = database.openUnpooledConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT stream_id FROM " + table)) {
      List<String> seen = new ArrayList<>();
      while (r.next()) {
        seen.add(r.getString(1));
      }
      assertThat(seen).containsExactlyInAnyOrderElementsOf(streams.subList(5, 20));
    }
    assertThat(new Subscriptions(store).failures(ParkedFailure.OPEN, 10)).isEmpty();
  }

  /**
   * A transaction holds back every global reader from its first write to its commit. A page of 200
   * events at 3 ms each in one transaction held them for 600 ms; the batches now shrink to about 10
   * ms of work (only the first, before anything is known, is the whole page).
   */
  @Test
  void a_slow_transactional_handler_commits_in_short_transactions() throws Exception {
    String category = "slow" + UUID.randomUUID().toString().substring(0, 8);
    appendEvents(category, 200);
    List<Long> transactionOfEach = Collections.synchronizedList(new ArrayList<>());
    TransactionalEventHandler slow =
        (event, tx) -> {
          try (Statement s = tx.createStatement();
              ResultSet r = s.executeQuery("SELECT pg_current_xact_id()::text::bigint")) {
            r.next();
            transactionOfEach.add(r.getLong(1));
          }
          Thread.sleep(3);
        };
    track(new Subscriptions(store).startTransactional(options(category).batchSize(200), slow));
    Await.until("all events", WAIT, () -> transactionOfEach.size() == 200);

    Map<Long, Long> eventsPerTransaction =
        transactionOfEach.stream()
            .collect(Collectors.groupingBy(id -> id, TreeMap::new, Collectors.counting()));
    List<Long> sizes = new ArrayList<>(eventsPerTransaction.values());
    assertThat(sizes.size()).isGreaterThan(5);
    assertThat(sizes).allSatisfy(n -> assertThat(n).isLessThan(50));
  }

  /** A handler that writes a batch at once; an event it cannot take is retried and parked alone. */
  @Test
  void a_batch_handler_gets_whole_batches_and_a_failing_batch_goes_one_event_at_a_time()
      throws Exception {
    String category = "batch" + UUID.randomUUID().toString().substring(0, 8);
    String table = table("seen_" + category, "stream_id text PRIMARY KEY");
    appendEvents(category, 30);
    AtomicInteger batchCalls = new AtomicInteger();
    TransactionalEventHandler handler =
        new TransactionalEventHandler() {
          @Override
          public void handle(RecordedEvent event, Connection tx) throws Exception {
            handleBatch(List.of(event), tx);
          }

          @Override
          public void handleBatch(List<RecordedEvent> events, Connection tx) throws Exception {
            batchCalls.incrementAndGet();
            try (PreparedStatement insert =
                tx.prepareStatement("INSERT INTO " + table + " SELECT unnest(?::text[])")) {
              insert.setArray(
                  1,
                  tx.createArrayOf("text", events.stream().map(RecordedEvent::streamId).toArray()));
              insert.executeUpdate(); // a second delivery would violate the primary key
            }
            if (events.stream().anyMatch(e -> e.type().equals("Poison"))) {
              throw new IllegalStateException("cannot take a poison event");
            }
          }
        };
    track(new Subscriptions(store).startTransactional(options(category), handler));
    Await.until("the first 30", WAIT, () -> count(table) == 30);
    // Batches, not one call per event (how many depends on how long each took: sized by time).
    assertThat(batchCalls.get()).isLessThan(30);

    appendEvents(category, 17);
    String poison =
        store
            .append(newStreamId(category), ExpectedVersion.noStream(), event("Poison", 0))
            .streamId();
    appendEvents(category, 12);
    Await.until("all but the poison", WAIT, () -> count(table) == 59);
    Await.until(
        "the poison parked",
        WAIT,
        () -> !new Subscriptions(store).failures(ParkedFailure.OPEN, 10).isEmpty());
    assertThat(new Subscriptions(store).failures(ParkedFailure.OPEN, 10))
        .extracting(ParkedFailure::streamId)
        .containsExactly(poison);
  }

  /**
   * A writing handler's statements go to PostgreSQL with the checkpoint's move and the COMMIT, in
   * one round trip (pgjdbc logs each message it sends; a Sync ends a round trip): its transaction
   * holds a transaction id, and every global reader, only while they run.
   */
  @Test
  void a_writing_handlers_batch_goes_in_one_round_trip_with_its_checkpoint_and_commit()
      throws Exception {
    String category = "rt" + UUID.randomUUID().toString().substring(0, 8);
    String table = table("written_" + category, "stream_id text PRIMARY KEY");
    appendEvents(category, 5);
    Map<Long, List<String>> sentByThread = new ConcurrentHashMap<>();
    java.util.logging.Logger wire =
        java.util.logging.Logger.getLogger("org.postgresql.core.v3.QueryExecutorImpl");
    java.util.logging.Handler recorder =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord record) {
            String message = record.getMessage();
            if (message.contains("FE=> Parse") || message.contains("FE=> Sync")) {
              sentByThread
                  .computeIfAbsent(record.getLongThreadID(), id -> new CopyOnWriteArrayList<>())
                  .add(message);
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    java.util.logging.Level level = wire.getLevel();
    wire.setLevel(java.util.logging.Level.FINEST);
    wire.addHandler(recorder);
    AtomicReference<Long> handlerThread = new AtomicReference<>();
    try {
      track(
          new Subscriptions(store)
              .startTransactional(
                  options(category),
                  TransactionalEventHandler.ofWrites(
                      (events, transaction) -> {
                        handlerThread.compareAndSet(null, Thread.currentThread().getId());
                        return SqlWrites.of(
                            "INSERT INTO " + table + " SELECT unnest(?::text[])",
                            (Object)
                                events.stream()
                                    .map(RecordedEvent::streamId)
                                    .toArray(String[]::new));
                      })));
      Await.until("the five events", WAIT, () -> count(table) == 5);
    } finally {
      wire.removeHandler(recorder);
      wire.setLevel(level);
    }
    // A copy: a log call that took the handler before its removal may still add to the list, and
    // a sub-list of a list changed since fails (CI once, ConcurrentModificationException).
    List<String> sent = List.copyOf(sentByThread.get(handlerThread.get()));
    int write = indexOf(sent, "INSERT INTO " + table);
    int commit = indexOf(sent.subList(write, sent.size()), "COMMIT\",oids");
    assertThat(write).as("%s", sent).isNotNegative();
    assertThat(commit).as("%s", sent).isPositive();
    assertThat(sent.subList(write, write + commit)).noneMatch(m -> m.contains("FE=> Sync"));
  }

  private static int indexOf(List<String> messages, String part) {
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i).contains(part)) {
        return i;
      }
    }
    return -1;
  }

  /** A writing handler's failing statement fails its own event only, retried and parked alone. */
  @Test
  void a_writing_handlers_failing_write_fails_only_its_event() throws Exception {
    String category = "wf" + UUID.randomUUID().toString().substring(0, 8);
    String table =
        table(
            "written_" + category,
            "stream_id text PRIMARY KEY, type text CHECK (type <> 'Poison')");
    appendEvents(category, 4);
    String poison =
        store
            .append(newStreamId(category), ExpectedVersion.noStream(), event("Poison", 0))
            .streamId();
    appendEvents(category, 4);
    track(
        new Subscriptions(store)
            .startTransactional(
                options(category),
                TransactionalEventHandler.ofWrites(
                    (events, transaction) ->
                        SqlWrites.of(
                            "INSERT INTO " + table + " SELECT * FROM unnest(?::text[], ?::text[])",
                            events.stream().map(RecordedEvent::streamId).toArray(String[]::new),
                            events.stream().map(RecordedEvent::type).toArray(String[]::new)))));
    Await.until("all but the poison", WAIT, () -> count(table) == 8);
    Await.until(
        "the poison parked",
        WAIT,
        () -> !new Subscriptions(store).failures(ParkedFailure.OPEN, 10).isEmpty());
    List<ParkedFailure> parked = new Subscriptions(store).failures(ParkedFailure.OPEN, 10);
    assertThat(parked).extracting(ParkedFailure::streamId).containsExactly(poison);
    new Subscriptions(store).resolveFailure(parked.get(0).id()); // the other tests expect none
  }

  @Test
  void of_two_instances_only_one_handles_and_the_other_takes_over_when_it_dies() throws Exception {
    String category = "ha" + UUID.randomUUID().toString().substring(0, 8);
    SubscriptionOptions options = options(category);
    List<String> byA = Collections.synchronizedList(new ArrayList<>());
    List<String> byB = Collections.synchronizedList(new ArrayList<>());
    Subscription a = track(new Subscriptions(store).start(options, e -> byA.add(e.streamId())));
    Await.until("a runs", WAIT, () -> a.state() == SubscriptionState.RUNNING);
    Subscription b = track(new Subscriptions(store).start(options, e -> byB.add(e.streamId())));
    Await.until("b stands by", WAIT, () -> b.state() == SubscriptionState.STANDBY);

    List<String> expected = new ArrayList<>(appendEvents(category, 15));
    Await.until("a handled them", WAIT, () -> byA.size() == 15);
    assertThat(byB).isEmpty();

    assertThat(terminateLockHolder(options.name())).isEqualTo(1);
    Await.until("b takes over", WAIT, () -> b.state() == SubscriptionState.RUNNING);
    expected.addAll(appendEvents(category, 15));
    Await.until("b handled the rest", WAIT, () -> byB.size() >= 15);

    List<String> all = new ArrayList<>(byA);
    all.addAll(byB);
    assertThat(all).containsAll(expected);
    assertThat(new java.util.HashSet<>(all)).hasSize(30);
    Await.until("a stands by", WAIT, () -> a.state() == SubscriptionState.STANDBY);
  }

  @Test
  void a_handler_that_fails_then_succeeds_is_retried_and_one_that_always_fails_is_parked() {
    String category = "fail" + UUID.randomUUID().toString().substring(0, 8);
    List<String> streams = appendEvents(category, 3);
    String flaky = streams.get(0);
    String broken = streams.get(1);
    AtomicInteger flakyCalls = new AtomicInteger();
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    ConcurrentHashMap<String, Boolean> healed = new ConcurrentHashMap<>();
    Subscriptions subscriptions = new Subscriptions(store);
    SubscriptionOptions options = options(category);
    track(
        subscriptions.start(
            options,
            event -> {
              if (event.streamId().equals(flaky) && flakyCalls.incrementAndGet() < 3) {
                throw new IllegalStateException("flaky " + flakyCalls.get());
              }
              if (event.streamId().equals(broken) && !healed.containsKey(broken)) {
                throw new IllegalStateException("broken for good");
              }
              handled.add(event.streamId());
            }));

    Await.until("the third event", WAIT, () -> handled.contains(streams.get(2)));
    assertThat(handled).containsExactly(flaky, streams.get(2));
    assertThat(flakyCalls.get()).isEqualTo(3);

    List<ParkedFailure> parked =
        subscriptions.failures(ParkedFailure.OPEN, 10).stream()
            .filter(f -> f.subscription().equals(options.name()))
            .toList();
    assertThat(parked)
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.streamId()).isEqualTo(broken);
              assertThat(f.attempts()).isEqualTo(3);
              assertThat(f.errorMessage()).contains("broken for good");
              assertThat(f.errorStack()).contains("IllegalStateException");
            });

    ParkedFailure stillBroken = subscriptions.retryFailure(parked.get(0).id());
    assertThat(stillBroken.status()).isEqualTo(ParkedFailure.OPEN);
    assertThat(stillBroken.attempts()).isEqualTo(4);

    healed.put(broken, true);
    assertThat(subscriptions.retryFailure(parked.get(0).id()).status())
        .isEqualTo(ParkedFailure.RETRIED);
    assertThat(handled).contains(broken);

    String third = appendEvents(category, 1).get(0);
    Await.until("after retry", WAIT, () -> handled.contains(third));
  }

  @Test
  void a_parked_failure_can_be_resolved_without_delivery() {
    String category = "res" + UUID.randomUUID().toString().substring(0, 8);
    appendEvents(category, 1);
    Subscriptions subscriptions = new Subscriptions(store);
    SubscriptionOptions options = options(category);
    track(
        subscriptions.start(
            options,
            event -> {
              throw new IllegalStateException("no");
            }));
    Await.until(
        "parked",
        WAIT,
        () ->
            subscriptions.failures(ParkedFailure.OPEN, 100).stream()
                .anyMatch(f -> f.subscription().equals(options.name())));
    ParkedFailure failure =
        subscriptions.failures(ParkedFailure.OPEN, 100).stream()
            .filter(f -> f.subscription().equals(options.name()))
            .findFirst()
            .orElseThrow();

    subscriptions.resolveFailure(failure.id());

    assertThat(subscriptions.failures(ParkedFailure.RESOLVED, 100))
        .extracting(ParkedFailure::id)
        .contains(failure.id());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> subscriptions.resolveFailure(failure.id()))
        .isInstanceOf(FailureAlreadySettledException.class)
        .hasMessageContaining("already resolved");
  }

  @Test
  void a_filtered_subscription_moves_its_checkpoint_past_events_it_does_not_want()
      throws Exception {
    String wanted = "want" + UUID.randomUUID().toString().substring(0, 8);
    String other = "other" + UUID.randomUUID().toString().substring(0, 8);
    Subscriptions subscriptions = new Subscriptions(store);
    SubscriptionOptions options = options(wanted);
    Subscription subscription = track(subscriptions.start(options, e -> {}));
    appendEvents(other, 5);
    Position head = store.headPosition();

    assertThat(subscription.awaitPosition(head, WAIT)).isTrue();
    Await.until(
        "its stored checkpoint and lag follow",
        WAIT,
        () -> subscriptions.status(options.name()).orElseThrow().lag() == 0);
  }

  /**
   * A filtered subscription wakes at every append and reads on past what it does not want. It
   * stored that at every wake-up: a write transaction (holding back global readers) per append per
   * filtered subscription. Now it stores it at most every 100 ms.
   */
  @Test
  void a_filtered_subscription_stores_its_way_past_unwanted_events_now_and_then() throws Exception {
    String wanted = "want" + UUID.randomUUID().toString().substring(0, 8);
    String other = "other" + UUID.randomUUID().toString().substring(0, 8);
    SubscriptionOptions options = options(wanted);
    String counter = table("writes_" + wanted, "at timestamptz");
    execute(
        """
        CREATE FUNCTION count_%1$s() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO %1$s VALUES (now()); RETURN NEW; END $$;
        CREATE TRIGGER count_%1$s AFTER UPDATE ON event_store.subscriptions
           FOR EACH ROW WHEN (NEW.name = '%2$s') EXECUTE FUNCTION count_%1$s();
        """
            .formatted(counter, options.name()));
    Subscriptions subscriptions = new Subscriptions(store);
    Subscription subscription = track(subscriptions.start(options, e -> {}));
    Await.until("running", WAIT, () -> subscription.state() == SubscriptionState.RUNNING);
    long writesBefore = count(counter);

    for (int i = 0; i < 100; i++) {
      appendEvents(other, 1);
      Thread.sleep(5); // a wake-up each
    }
    assertThat(subscription.awaitPosition(store.headPosition(), WAIT)).isTrue();
    Await.until(
        "the stored checkpoint follows",
        WAIT,
        () -> subscriptions.status(options.name()).orElseThrow().lag() == 0);

    // 100 appends over at least 0.5 s: a handful of writes, not one per wake-up.
    assertThat(count(counter) - writesBefore).isLessThan(40);
  }

  @Test
  void caught_up_completes_once_everything_there_was_has_been_handled() throws Exception {
    String category = "cu" + UUID.randomUUID().toString().substring(0, 8);
    appendEvents(category, 25);
    Position last = lastPositionOf(category);
    List<String> handled = Collections.synchronizedList(new ArrayList<>());
    Subscription subscription =
        track(
            new Subscriptions(store)
                .start(options(category).batchSize(10), e -> handled.add(e.streamId())));

    Position caughtUpAt = subscription.caughtUp().get(30, java.util.concurrent.TimeUnit.SECONDS);

    assertThat(caughtUpAt).isGreaterThanOrEqualTo(last);
    assertThat(handled).hasSize(25);
  }

  @Test
  void stop_ends_the_subscription_thread() throws Exception {
    String category = "stop" + UUID.randomUUID().toString().substring(0, 8);
    SubscriptionOptions options = options(category);
    Subscription subscription = new Subscriptions(store).start(options, e -> {});
    Await.until("running", WAIT, () -> subscription.state() == SubscriptionState.RUNNING);

    subscription.stop();

    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().equals("subscription-" + options.name()));
    assertThat(subscription.state()).isEqualTo(SubscriptionState.STOPPED);
  }

  private static Position lastPositionOf(String category) {
    Position last = Position.START;
    var page = store.readAll(Position.START, EventFilter.categories(category), 10_000);
    for (RecordedEvent event : page.events()) {
      last = event.position();
    }
    return last;
  }

  /** Kills the backend holding a subscription's advisory lock, as if its node died. */
  private static int terminateLockHolder(String subscription) throws Exception {
    try (Connection c = database.openUnpooledConnection();
        PreparedStatement s =
            c.prepareStatement(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_locks
                 WHERE locktype = 'advisory' AND granted AND objsubid = 1
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND ((classid::bigint << 32) | objid::bigint)
                       = ('x' || substr(md5(?), 1, 16))::bit(64)::bigint
                """)) {
      s.setString(1, "event_store/" + subscription);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getInt(1);
      }
    }
  }

  private static int terminateAppendListeners() throws Exception {
    try (Connection c = database.openUnpooledConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                    + " WHERE locktype = 'advisory' AND granted"
                    + " AND ((classid::bigint << 32) | objid::bigint) = "
                    + AppendSignal.PRESENCE_KEY)) {
      s.setString(1, store.notificationChannel());
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getInt(1);
      }
    }
  }

  /** Creates {@code name} with {@code columns}; returns its name. */
  private static String table(String name, String columns) throws Exception {
    execute("CREATE TABLE " + name + " (" + columns + ")");
    return name;
  }

  private static void execute(String sql) throws Exception {
    try (Connection c = database.openUnpooledConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static long count(String table) {
    try (Connection c = database.openUnpooledConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM " + table)) {
      r.next();
      return r.getLong(1);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
