package dev.eventscan.eventstore.internal;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.insertFirstEvents;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.EventStoreBuilder;
import dev.eventscan.eventstore.NotifyMode;
import dev.eventscan.eventstore.stream.AppendOutcomeUnknownException;
import dev.eventscan.eventstore.stream.AppendResult;
import dev.eventscan.eventstore.stream.DuplicateEventIdException;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.ReadDirection;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamDeletedException;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.eventstore.subscription.Await;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Concurrent appends share batches, and every caller gets exactly its own outcome: a conflict,
 * deleted stream or duplicate id in one append never fails another in the same batch, and a batch
 * lost with its connection is reported as outcome unknown to each of its callers.
 *
 * <p>The store under test gathers past {@value #GATHER_ABOVE} appends in flight (the default is
 * higher; a low threshold keeps the plugs below few and the pool large enough). Batches are lined
 * up deterministically: a blocker transaction holds version 1 of "plug" streams, so the appends
 * that go alone and those that write batches wait inside PostgreSQL while the appends under test
 * queue behind them; rolling the blocker back releases them all into one batch.
 */
@ExtendWith(PostgresExtension.class)
class CoalescedAppendTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int GATHER_ABOVE = 2;
  private static TestDatabase database;
  private static EventStore migrated;
  private static PostgresEventStore store;
  private static final ExecutorService callers = Executors.newCachedThreadPool();

  @BeforeAll
  static void createStore(TestDatabase testDatabase) {
    database = testDatabase;
    migrated = EventStore.builder(testDatabase.dataSource()).build();
    store =
        new PostgresEventStore(
            testDatabase.dataSource(),
            migrated.schema(),
            EventStoreBuilder.DEFAULT_MAX_EVENT_DATA_BYTES,
            List.of(),
            NotifyMode.AFTER_COMMIT,
            Duration.ofMillis(500),
            true,
            GATHER_ABOVE);
  }

  @AfterAll
  static void stopCallers() {
    callers.shutdownNow();
    store.close();
    migrated.close();
  }

  @Test
  void while_few_appends_are_in_flight_each_goes_alone_with_its_own_check_error_and_result()
      throws Exception {
    long batchesBefore = store.coalescerStats().orElseThrow().batches();
    String streamId = newStreamId("alone");
    EventData firstEvent = event("A", 1);
    AppendResult first = store.append(streamId, ExpectedVersion.noStream(), firstEvent);
    assertThat(committedVersion(streamId)).as("committed on return").isEqualTo(1);
    assertThat(store.append(streamId, ExpectedVersion.exactly(1), event("A", 2)).streamVersion())
        .isEqualTo(2);
    assertThatThrownBy(() -> store.append(streamId, ExpectedVersion.exactly(1), event("A", 3)))
        .isInstanceOfSatisfying(
            WrongExpectedVersionException.class, e -> assertThat(e.actualVersion()).isEqualTo(2));
    assertThatThrownBy(() -> store.append(streamId, ExpectedVersion.exactly(5), event("A", 4)))
        .isInstanceOfSatisfying(
            WrongExpectedVersionException.class, e -> assertThat(e.actualVersion()).isEqualTo(2));
    assertThat(store.append(streamId, ExpectedVersion.noStream(), firstEvent))
        .as("the same event again returns the first result")
        .isEqualTo(first);
    store.deleteStream(streamId, ExpectedVersion.exactly(2));
    assertThatThrownBy(() -> store.append(streamId, ExpectedVersion.exactly(3), event("A", 5)))
        .isInstanceOf(StreamDeletedException.class);

    // Up to the threshold in flight at once, still alone: neither queues for a batch.
    List<String> plugs = List.of(newStreamId("alone"), newStreamId("alone"));
    try (Connection blocker = holdVersionOne(plugs)) {
      List<CompletableFuture<Outcome>> plugged = plugAll(plugs);
      assertThat(store.queuedAppends()).isZero();
      blocker.rollback();
      for (CompletableFuture<Outcome> plug : plugged) {
        assertThat(plug.get(60, TimeUnit.SECONDS).result().streamVersion()).isEqualTo(1);
      }
    }
    assertThat(store.coalescerStats().orElseThrow().batches())
        .as("no append went through a batch")
        .isEqualTo(batchesBefore);
  }

  @Test
  void past_the_threshold_appends_gather_and_each_keeps_its_own_check_error_and_result()
      throws Exception {
    String hot = newStreamId("hot");
    store.append(hot, ExpectedVersion.noStream(), event("Seed", 0));
    String deleted = newStreamId("deleted");
    store.append(deleted, ExpectedVersion.noStream(), event("Seed", 0));
    store.deleteStream(deleted, ExpectedVersion.exactly(1));
    String fresh = newStreamId("fresh");
    AppendCoalescer.Stats before = store.coalescerStats().orElseThrow();

    List<Call> calls =
        List.of(
            new Call(fresh, ExpectedVersion.noStream(), List.of(event("Fresh", 1))),
            new Call(hot, ExpectedVersion.exactly(0), List.of(event("Stale", 1))),
            new Call(deleted, ExpectedVersion.exactly(1), List.of(event("Late", 1))));
    List<Outcome> outcomes = runInOneBatch(calls);

    AppendCoalescer.Stats after = store.coalescerStats().orElseThrow();
    assertThat(after.coalescedAppends() - before.coalescedAppends())
        .as("the three calls shared one batch")
        .isGreaterThanOrEqualTo(calls.size());
    assertThat(outcomes.get(0).result().streamVersion()).isEqualTo(1);
    assertThat(committedVersion(fresh)).isEqualTo(1);
    assertThat(outcomes.get(1).failure())
        .isInstanceOfSatisfying(
            WrongExpectedVersionException.class, e -> assertThat(e.actualVersion()).isEqualTo(1));
    assertThat(outcomes.get(2).failure()).isInstanceOf(StreamDeletedException.class);
    assertThat(committedVersion(hot)).isEqualTo(1);
  }

  @Test
  void concurrent_writers_on_their_own_streams_share_batches_and_all_append() throws Exception {
    int writers = 16;
    int appends = 50;
    List<Future<String>> streams = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      streams.add(
          callers.submit(
              () -> {
                String streamId = newStreamId("own");
                for (int i = 0; i < appends; i++) {
                  AppendResult result =
                      store.append(streamId, ExpectedVersion.exactly(i), event("E", i));
                  assertThat(result.streamVersion()).isEqualTo(i + 1);
                }
                return streamId;
              }));
    }
    for (Future<String> stream : streams) {
      assertThat(store.streamInfo(stream.get()).orElseThrow().version()).isEqualTo(appends);
    }
    assertThat(store.coalescerStats().orElseThrow().coalescedAppends()).isPositive();
  }

  @Test
  void every_caller_in_a_batch_gets_its_own_outcome() throws Exception {
    String hot = newStreamId("hot");
    store.append(hot, ExpectedVersion.noStream(), event("Seed", 0));
    String deleted = newStreamId("deleted");
    store.append(deleted, ExpectedVersion.noStream(), event("Seed", 0));
    store.deleteStream(deleted, ExpectedVersion.exactly(1));
    String retried = newStreamId("retried");
    EventData retriedEvent = event("Retried", 1);
    AppendResult first = store.append(retried, ExpectedVersion.noStream(), retriedEvent);
    String existing = newStreamId("existing");
    EventData taken = event("Taken", 1);
    store.append(existing, ExpectedVersion.noStream(), taken);
    String halfTaken = newStreamId("half");
    long batchesBefore = store.coalescerStats().orElseThrow().coalescedAppends();

    List<Call> calls = new ArrayList<>();
    List<String> fresh = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String streamId = newStreamId("fresh");
      fresh.add(streamId);
      calls.add(new Call(streamId, ExpectedVersion.noStream(), List.of(event("Fresh", i))));
      calls.add(new Call(hot, ExpectedVersion.exactly(1), List.of(event("Hot", i))));
    }
    calls.add(new Call(deleted, ExpectedVersion.exactly(2), List.of(event("Late", 1))));
    calls.add(new Call(retried, ExpectedVersion.noStream(), List.of(retriedEvent)));
    calls.add(new Call(existing, ExpectedVersion.noStream(), List.of(event("Again", 1))));
    // Two events, the second with an id another stream already has: half of it would go in.
    calls.add(new Call(halfTaken, ExpectedVersion.noStream(), List.of(event("Half", 1), taken)));
    List<Outcome> outcomes = runInOneBatch(calls);

    assertThat(store.coalescerStats().orElseThrow().coalescedAppends())
        .as("the calls shared batches")
        .isGreaterThan(batchesBefore);
    for (int i = 0; i < calls.size(); i++) {
      Call call = calls.get(i);
      Outcome outcome = outcomes.get(i);
      if (fresh.contains(call.streamId())) {
        assertThat(outcome.result().streamVersion()).isEqualTo(1);
      }
    }
    List<Outcome> hotOutcomes =
        outcomes.stream().filter(o -> o.call().streamId().equals(hot)).toList();
    assertThat(hotOutcomes.stream().filter(o -> o.result() != null)).hasSize(1);
    assertThat(hotOutcomes.stream().filter(o -> o.failure() != null))
        .hasSize(5)
        .allSatisfy(
            o ->
                assertThat(o.failure())
                    .isInstanceOfSatisfying(
                        WrongExpectedVersionException.class,
                        e -> assertThat(e.actualVersion()).isEqualTo(2)));
    Outcome winner = hotOutcomes.stream().filter(o -> o.result() != null).findFirst().orElseThrow();
    List<RecordedEvent> hotEvents = store.readStream(hot, 1, 10, ReadDirection.FORWARDS).events();
    assertThat(hotEvents)
        .extracting(RecordedEvent::eventId)
        .hasSize(2)
        .endsWith(winner.call().events().get(0).eventId());

    assertThat(outcomeFor(outcomes, deleted).failure()).isInstanceOf(StreamDeletedException.class);
    assertThat(outcomeFor(outcomes, retried).result()).isEqualTo(first);
    assertThat(outcomeFor(outcomes, existing).failure())
        .isInstanceOfSatisfying(
            WrongExpectedVersionException.class, e -> assertThat(e.actualVersion()).isEqualTo(1));
    assertThat(outcomeFor(outcomes, halfTaken).failure())
        .isInstanceOf(DuplicateEventIdException.class);
    assertThat(store.streamInfo(halfTaken)).isEmpty();
    assertThat(store.streamInfo(existing).orElseThrow().version()).isEqualTo(1);
    assertThat(store.streamInfo(retried).orElseThrow().version()).isEqualTo(1);
  }

  @Test
  void an_event_id_taken_elsewhere_leaves_out_only_its_append_and_the_rest_commit_together()
      throws Exception {
    EventData taken = event("Taken", 1);
    store.append(newStreamId("owner"), ExpectedVersion.noStream(), taken);
    String duplicate = newStreamId("duplicate");
    // Twice: the first batch meets the conflict unprepared, the second right after it.
    for (int round = 0; round < 2; round++) {
      List<Call> calls = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        calls.add(
            new Call(newStreamId("fresh"), ExpectedVersion.noStream(), List.of(event("F", i))));
      }
      calls.add(new Call(duplicate, ExpectedVersion.noStream(), List.of(taken)));
      List<Outcome> outcomes = runInOneBatch(calls);

      assertThat(outcomeFor(outcomes, duplicate).failure())
          .isInstanceOf(DuplicateEventIdException.class);
      assertThat(outcomes.subList(0, 5))
          .allSatisfy(o -> assertThat(o.failure()).isNull())
          .extracting(o -> o.result().lastPosition().transactionId())
          .as("the other appends committed in one transaction, not each alone")
          .containsOnly(outcomes.get(0).result().lastPosition().transactionId());
    }
    assertThat(store.streamInfo(duplicate)).isEmpty();
  }

  @Test
  void a_batch_whose_backend_is_terminated_while_committing_is_outcome_unknown_to_all_its_callers()
      throws Exception {
    List<String> plugs = plugStreams();
    String trap = newStreamId("trap");
    List<Call> calls = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      calls.add(new Call(newStreamId("lost"), ExpectedVersion.noStream(), List.of(event("L", i))));
    }
    calls.add(new Call(trap, ExpectedVersion.noStream(), List.of(event("Trapped", 1))));
    List<CompletableFuture<Outcome>> pending;
    List<String> held = new ArrayList<>(plugs);
    held.add(trap);
    try (Connection blocker = holdVersionOne(held)) {
      List<CompletableFuture<Outcome>> plugged = plugAll(plugs);
      pending = submit(calls);
      Await.until("the calls queue", WAIT, () -> store.queuedAppends() == calls.size());

      // The plug that began last is a batch writer's (those that go alone began first): once
      // its append is settled, the writer hands the queue to one caller, who writes it as one
      // batch.
      terminate(latestWaiting(""));
      Await.until(
          "the batch waits on the trap", WAIT, () -> waiting(GuardedInsert.BATCH_COMMENT) == 1);
      terminate(latestWaiting(GuardedInsert.BATCH_COMMENT));

      for (int i = 0; i < calls.size(); i++) {
        Outcome outcome = pending.get(i).get(60, TimeUnit.SECONDS);
        String streamId = calls.get(i).streamId();
        assertThat(outcome.failure())
            .as(streamId)
            .isInstanceOfSatisfying(
                AppendOutcomeUnknownException.class,
                e -> assertThat(e.streamId()).isEqualTo(streamId));
      }
      blocker.rollback();
      List<Outcome> plugOutcomes = new ArrayList<>();
      for (CompletableFuture<Outcome> plug : plugged) {
        plugOutcomes.add(plug.get(60, TimeUnit.SECONDS));
      }
      assertThat(plugOutcomes)
          .as("the plugs")
          .anySatisfy(
              o -> assertThat(o.failure()).isInstanceOf(AppendOutcomeUnknownException.class))
          .anySatisfy(o -> assertThat(o.result()).isNotNull());
    }
    // The advice holds: the same events again are written once.
    for (Call call : calls) {
      store.append(call.streamId(), call.expected(), call.events());
      store.append(call.streamId(), call.expected(), call.events());
      assertThat(store.streamInfo(call.streamId()).orElseThrow().version()).isEqualTo(1);
    }
  }

  private record Call(String streamId, ExpectedVersion expected, List<EventData> events) {}

  private record Outcome(Call call, AppendResult result, Throwable failure) {}

  private static Outcome outcomeFor(List<Outcome> outcomes, String streamId) {
    return outcomes.stream()
        .filter(o -> o.call().streamId().equals(streamId))
        .findFirst()
        .orElseThrow();
  }

  /** Plugs both batch writers, queues every call behind them, then lets them all go. */
  private static List<Outcome> runInOneBatch(List<Call> calls) throws Exception {
    List<String> plugs = plugStreams();
    List<CompletableFuture<Outcome>> pending;
    try (Connection blocker = holdVersionOne(plugs)) {
      plugAll(plugs);
      pending = submit(calls);
      Await.until("the calls queue", WAIT, () -> store.queuedAppends() == calls.size());
      blocker.rollback();
    }
    List<Outcome> outcomes = new ArrayList<>();
    for (CompletableFuture<Outcome> outcome : pending) {
      outcomes.add(outcome.get(60, TimeUnit.SECONDS));
    }
    return outcomes;
  }

  /**
   * One stream per append that goes alone and per batch writer: appends there wait on the blocker,
   * so every later append gathers and every writer is busy.
   */
  private static List<String> plugStreams() {
    List<String> plugs = new ArrayList<>();
    for (int i = 0; i < store.gatherAbove() + store.maxBatchesInFlight(); i++) {
      plugs.add(newStreamId("plug"));
    }
    return plugs;
  }

  private static List<CompletableFuture<Outcome>> plugAll(List<String> plugs) {
    List<CompletableFuture<Outcome>> plugged = new ArrayList<>();
    for (String plug : plugs) {
      plugged.add(plug(plug));
      // One at a time, so each plug is a writer of its own and not queued behind another.
      Await.until("the plug waits on the blocker", WAIT, () -> waiting("") == plugged.size());
    }
    return plugged;
  }

  private static CompletableFuture<Outcome> plug(String streamId) {
    return submit(List.of(new Call(streamId, ExpectedVersion.noStream(), List.of(event("P", 1)))))
        .get(0);
  }

  private static List<CompletableFuture<Outcome>> submit(List<Call> calls) {
    List<CompletableFuture<Outcome>> pending = new ArrayList<>();
    for (Call call : calls) {
      pending.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return new Outcome(
                      call, store.append(call.streamId(), call.expected(), call.events()), null);
                } catch (RuntimeException e) {
                  return new Outcome(call, null, e);
                }
              },
              callers));
    }
    return pending;
  }

  /** Inserts version 1 of the streams in a transaction left open, so appends there must wait. */
  private static Connection holdVersionOne(List<String> streamIds) throws SQLException {
    Connection blocker = database.openUnpooledConnection();
    blocker.setAutoCommit(false);
    insertFirstEvents(blocker, "Blocker", streamIds.toArray(String[]::new));
    return blocker;
  }

  /** Backends of this database waiting on a lock, running a statement that contains {@code sql}. */
  private static int waiting(String sql) {
    return waitingBackends(sql).size();
  }

  /** The waiting backend whose statement began last. */
  private static int latestWaiting(String sql) {
    return waitingBackends(sql).get(0);
  }

  /** The version of the stream as another session sees it: committed, not just returned. */
  private static long committedVersion(String streamId) throws SQLException {
    try (Connection other = database.openUnpooledConnection();
        PreparedStatement s =
            other.prepareStatement(
                "SELECT coalesce(max(stream_version), 0) FROM event_store.events WHERE stream_id = ?")) {
      s.setString(1, streamId);
      try (ResultSet row = s.executeQuery()) {
        row.next();
        return row.getLong(1);
      }
    }
  }

  private static List<Integer> waitingBackends(String sql) {
    try (Connection admin = database.openUnpooledConnection();
        PreparedStatement s =
            admin.prepareStatement(
                """
                SELECT pid FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND datname = current_database()
                   AND position(? IN query) > 0
                 ORDER BY query_start DESC
                """)) {
      s.setString(1, sql);
      List<Integer> pids = new ArrayList<>();
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          pids.add(rows.getInt(1));
        }
      }
      return pids;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void terminate(int pid) throws SQLException {
    try (Connection admin = database.openUnpooledConnection();
        PreparedStatement kill = admin.prepareStatement("SELECT pg_terminate_backend(?)")) {
      kill.setInt(1, pid);
      kill.executeQuery().close();
    }
  }
}
