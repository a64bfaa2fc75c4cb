package dev.eventscan.eventstore.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.serialization.JacksonEventSerializer;
import dev.eventscan.eventstore.snapshot.Snapshot;
import dev.eventscan.eventstore.snapshot.SnapshotPolicy;
import dev.eventscan.eventstore.snapshot.SnapshotStore;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.testsupport.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class AggregateRepositoryTest {
  private static EventStore store;
  private static SnapshotStore snapshots;
  private static final JacksonEventSerializer serializer =
      new JacksonEventSerializer(Account.registry());

  @BeforeAll
  static void createStore(DataSource dataSource) {
    store = EventStore.builder(dataSource).build();
    snapshots = new SnapshotStore(store, new ObjectMapper());
  }

  private static AggregateRepository<Account.State, Account.Event> repository(
      SnapshotPolicy policy, int schemaVersion, int retries) {
    return new AggregateRepository<>(
        store, Account.type(policy, schemaVersion), serializer, snapshots, retries);
  }

  @Test
  void loading_with_snapshots_gives_the_same_state_as_a_full_replay() {
    var withSnapshots = repository(SnapshotPolicy.everyEvents(7), 1, 0);
    var withoutSnapshots = repository(SnapshotPolicy.NEVER, 1, 0);
    for (long seed = 1; seed <= 5; seed++) {
      Random random = new Random(seed);
      String id = UUID.randomUUID().toString();
      withSnapshots.update(id, CommandMetadata.newCommand(), Account.open("owner-" + seed));
      int commands = 10 + random.nextInt(60);
      for (int i = 0; i < commands; i++) {
        long amount = 1 + random.nextInt(100);
        String commandId = "c" + i;
        Decision<Account.State, Account.Event> decision =
            random.nextInt(3) == 0
                ? state ->
                    state.balance() >= amount
                        ? Account.withdraw(amount, commandId).decide(state)
                        : List.of()
                : Account.deposit(amount, commandId);
        withSnapshots.update(id, CommandMetadata.newCommand(), decision);
      }

      Aggregate<Account.State> fromSnapshot = withSnapshots.load(id);
      Aggregate<Account.State> replayed = withoutSnapshots.load(id);
      assertThat(fromSnapshot).isEqualTo(replayed);
      assertThat(snapshots.load("account-" + id, Account.State.class, 1))
          .get()
          .satisfies(
              s ->
                  assertThat(s.streamVersion())
                      .isLessThanOrEqualTo(replayed.version())
                      .isPositive());
    }
  }

  @Test
  void a_snapshot_in_an_old_schema_version_is_ignored_and_replaced() {
    String id = UUID.randomUUID().toString();
    String streamId = "account-" + id;
    var version1 = repository(SnapshotPolicy.everyEvents(2), 1, 0);
    version1.update(id, CommandMetadata.newCommand(), Account.open("ada"));
    version1.update(id, CommandMetadata.newCommand(), Account.deposit(10, "d1"));
    // A wrong state under the old schema version: it must not be used by version 2.
    snapshots.save(
        new Snapshot<>(streamId, 2, 1, new Account.State(id, "bogus", 999, List.of(), 2)));

    var version2 = repository(SnapshotPolicy.everyEvents(2), 2, 0);
    Aggregate<Account.State> loaded = version2.load(id);
    assertThat(loaded.state().balance()).isEqualTo(10);
    assertThat(loaded.state().owner()).isEqualTo("ada");

    version2.update(id, CommandMetadata.newCommand(), Account.deposit(5, "d2"));
    version2.update(id, CommandMetadata.newCommand(), Account.deposit(5, "d3"));
    Snapshot<Account.State> rewritten =
        snapshots.load(streamId, Account.State.class, 2).orElseThrow();
    assertThat(rewritten.streamVersion()).isEqualTo(4);
    assertThat(rewritten.state().balance()).isEqualTo(20);

    snapshots.delete(streamId);
    assertThat(version2.load(id).state().balance()).isEqualTo(20);
  }

  @Test
  void a_snapshot_ahead_of_its_stream_is_ignored() {
    String id = UUID.randomUUID().toString();
    String streamId = "account-" + id;
    var repository = repository(SnapshotPolicy.everyEvents(100), 1, 0);
    repository.update(id, CommandMetadata.newCommand(), Account.open("ada"));
    repository.update(id, CommandMetadata.newCommand(), Account.deposit(10, "d1"));
    // Version 9 of a stream that has 2 events: from another database, or a restored backup.
    snapshots.save(
        new Snapshot<>(streamId, 9, 1, new Account.State(id, "bogus", 999, List.of(), 9)));

    Aggregate<Account.State> loaded = repository.load(id);

    assertThat(loaded.version()).isEqualTo(2);
    assertThat(loaded.state().balance()).isEqualTo(10);
    assertThat(loaded.state().owner()).isEqualTo("ada");
  }

  @Test
  void a_rejected_command_is_not_retried_and_appends_nothing() {
    String id = UUID.randomUUID().toString();
    var repository = repository(SnapshotPolicy.NEVER, 1, 5);
    repository.update(id, CommandMetadata.newCommand(), Account.open("ada"));
    java.util.concurrent.atomic.AtomicInteger decisions =
        new java.util.concurrent.atomic.AtomicInteger();

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                repository.update(
                    id,
                    CommandMetadata.newCommand(),
                    state -> {
                      decisions.incrementAndGet();
                      throw new CommandRejectedException("not enough money");
                    }))
        .isInstanceOf(CommandRejectedException.class);
    assertThat(decisions.get()).isEqualTo(1);
    assertThat(repository.load(id).version()).isEqualTo(1);
  }

  @Test
  void eight_concurrent_writers_apply_every_command_exactly_once() throws Exception {
    var accounts = repository(SnapshotPolicy.everyEvents(25), 1, 1_000);
    String id = UUID.randomUUID().toString();
    accounts.update(id, CommandMetadata.newCommand(), Account.open("shared"));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < 8; w++) {
        int writer = w;
        writers.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 40; i++) {
                    accounts.update(
                        id, CommandMetadata.newCommand(), Account.deposit(1, writer + "-" + i));
                  }
                  return null;
                }));
      }
      for (Future<?> writer : writers) {
        writer.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    Aggregate<Account.State> account = accounts.load(id);
    assertThat(account.state().balance()).isEqualTo(320);
    assertThat(account.state().commands()).hasSize(320).doesNotHaveDuplicates();
    assertThat(account.version()).isEqualTo(321);
    assertThat(store.readStream("account-" + id).events())
        .extracting(RecordedEvent::streamVersion)
        .containsExactlyElementsOf(
            java.util.stream.LongStream.rangeClosed(1, 321).boxed().toList());
  }

  @Test
  void update_gives_up_after_its_retries_with_the_conflict() {
    var accounts = repository(SnapshotPolicy.NEVER, 1, 2);
    String id = UUID.randomUUID().toString();
    accounts.update(id, CommandMetadata.newCommand(), Account.open("x"));
    int[] decisions = {0};

    assertThatThrownBy(
            () ->
                accounts.update(
                    id,
                    CommandMetadata.newCommand(),
                    state -> {
                      decisions[0]++;
                      // Someone else always gets in between load and save.
                      accounts.update(
                          id,
                          CommandMetadata.newCommand(),
                          Account.deposit(1, UUID.randomUUID().toString()));
                      return List.of(new Account.Deposited(1, "mine"));
                    }))
        .isInstanceOf(WrongExpectedVersionException.class);
    assertThat(decisions[0]).isEqualTo(3);
    assertThat(accounts.load(id).state().commands()).doesNotContain("mine");
  }

  /** A decision that is not idempotent by itself: it deposits every time it is asked. */
  private static Decision<Account.State, Account.Event> depositTwiceEveryTime() {
    return state ->
        List.of(
            new Account.Deposited(1, UUID.randomUUID().toString()),
            new Account.Deposited(2, UUID.randomUUID().toString()));
  }

  @Test
  void a_command_sent_again_with_deterministic_event_ids_appends_nothing() {
    var accounts = repository(SnapshotPolicy.NEVER, 1, 5);
    String id = UUID.randomUUID().toString();
    accounts.update(id, CommandMetadata.newCommand(), Account.open("z"));
    CommandMetadata command =
        new CommandMetadata("client-command-7", null, java.util.Map.of())
            .withDeterministicEventIds();

    UpdateResult<Account.State, Account.Event> first =
        accounts.update(id, command, depositTwiceEveryTime());
    // The sender never learned the outcome (a timeout) and sends the same command again.
    UpdateResult<Account.State, Account.Event> again =
        accounts.update(id, command, depositTwiceEveryTime());

    assertThat(first.appended()).hasSize(2);
    assertThat(again.appended()).isEmpty();
    assertThat(again.version()).isEqualTo(3);
    assertThat(accounts.load(id).state().balance()).isEqualTo(3);
    // The ids are the same for the same stream, command and index, and differ across streams.
    String other = UUID.randomUUID().toString();
    accounts.update(other, command, depositTwiceEveryTime());
    List<UUID> ids =
        store.readStream("account-" + id).events().stream().map(RecordedEvent::eventId).toList();
    assertThat(store.readStream("account-" + other).events())
        .extracting(RecordedEvent::eventId)
        .doesNotContainAnyElementsOf(ids);

    // Without deterministic ids the same re-send is a second deposit: what the option prevents.
    CommandMetadata random = new CommandMetadata("client-command-8", null, java.util.Map.of());
    accounts.update(id, random, depositTwiceEveryTime());
    accounts.update(id, random, depositTwiceEveryTime());
    assertThat(accounts.load(id).state().balance()).isEqualTo(3 + 3 + 3);
  }

  @Test
  void concurrent_sends_of_one_command_with_deterministic_event_ids_append_it_once()
      throws Exception {
    var accounts = repository(SnapshotPolicy.NEVER, 1, 50);
    String id = UUID.randomUUID().toString();
    accounts.update(id, CommandMetadata.newCommand(), Account.open("z"));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> senders = new ArrayList<>();
      for (int c = 0; c < 20; c++) {
        CommandMetadata command =
            new CommandMetadata("command-" + c, null, java.util.Map.of())
                .withDeterministicEventIds();
        for (int copy = 0; copy < 3; copy++) {
          senders.add(pool.submit(() -> accounts.update(id, command, depositTwiceEveryTime())));
        }
      }
      for (Future<?> sender : senders) {
        sender.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(accounts.load(id).state().balance()).isEqualTo(20 * 3);
    assertThat(accounts.load(id).version()).isEqualTo(1 + 20 * 2);
  }

  @Test
  void events_carry_the_commands_correlation_and_causation_ids() {
    var accounts = repository(SnapshotPolicy.NEVER, 1, 0);
    String id = UUID.randomUUID().toString();
    CommandMetadata first = CommandMetadata.newCommand();
    accounts.update(id, first, Account.open("y"));
    CommandMetadata followUp = CommandMetadata.causedBy(first.commandId());
    accounts.update(id, followUp, Account.deposit(3, "d"));

    List<RecordedEvent> events = store.readStream("account-" + id).events();
    assertThat(events.get(0).metadata().correlationId()).isEqualTo(first.commandId());
    assertThat(events.get(0).metadata().causationId()).isEqualTo(first.commandId());
    assertThat(events.get(1).metadata().correlationId()).isEqualTo(first.commandId());
    assertThat(events.get(1).metadata().causationId()).isEqualTo(followUp.commandId());
  }

  @Test
  void a_failing_snapshot_write_does_not_fail_the_save_and_bad_ids_are_refused() {
    // Snapshots go to a schema that was never created: every snapshot write fails.
    EventStore otherSchema =
        EventStore.builder(store.dataSource()).schema("no_snapshots_here").migrate(false).build();
    var accounts =
        new AggregateRepository<>(
            store,
            Account.type(SnapshotPolicy.everyEvents(1), 1),
            serializer,
            new SnapshotStore(otherSchema, new ObjectMapper()),
            0);
    String id = UUID.randomUUID().toString();

    UpdateResult<Account.State, Account.Event> saved =
        accounts.update(id, CommandMetadata.newCommand(), Account.open("z"));

    assertThat(saved.version()).isEqualTo(1);
    assertThat(saved.appended()).hasSize(1);
    assertThat(accounts.load(id).state().owner()).isEqualTo("z");
    assertThatThrownBy(() -> accounts.load(" "))
        .isInstanceOf(InvalidInputException.class)
        .hasMessageContaining("aggregate id");
    assertThatThrownBy(
            () -> accounts.update(id, CommandMetadata.newCommand(), Account.withdraw(5, "w")))
        .isInstanceOf(Account.InsufficientFunds.class);
  }
}
