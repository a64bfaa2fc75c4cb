package dev.eventscan.eventstore.soak;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.EventStoreException;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.DuplicateEventIdException;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamAppend;
import dev.eventscan.eventstore.stream.WrongExpectedVersionException;
import dev.eventscan.eventstore.subscription.RetryPolicy;
import dev.eventscan.eventstore.subscription.Subscription;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.eventstore.subscription.SubscriptionState;
import dev.eventscan.eventstore.subscription.Subscriptions;
import dev.eventscan.testsupport.RestartablePostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writers on hot streams (exact, any, batches, multi-stream atomic), plain and transactional
 * subscriptions and two instances of one subscription, while a nemesis terminates backends,
 * restarts PostgreSQL (fast and immediate) and holds a transaction id open. At the end: every
 * acknowledged append is there once with dense versions, readAll and every subscription saw every
 * event in order (the transactional one exactly once), nothing is stuck and no lock is left.
 * Bounded in time: {@code -Dsoak.seconds} (default 30) of faults, then catch-up and checks.
 */
class FaultInjectionSoakTest {
  private static final Logger log = LoggerFactory.getLogger(FaultInjectionSoakTest.class);
  private static final String CATEGORY = "soak";
  private static final int HOT_STREAMS = 6;
  private static final Duration CATCH_UP = Duration.ofSeconds(90);

  private final Map<UUID, String> acknowledged = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> nemesisActions = new ConcurrentHashMap<>();
  private final AtomicBoolean running = new AtomicBoolean(true);

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void nothing_is_lost_reordered_duplicated_or_stuck_under_kills_restarts_and_long_transactions(
      @TempDir Path dataDirectory) throws Exception {
    long faultSeconds = Long.getLong("soak.seconds", 30);
    try (RestartablePostgres postgres =
            new RestartablePostgres(Files.createDirectories(dataDirectory.resolve("pg")));
        HikariDataSource pool = pool(postgres.jdbcUrl())) {
      EventStore store = EventStore.builder(pool).build();
      createProjectionTable(pool);
      Subscriptions nodeA = new Subscriptions(store);
      Subscriptions nodeB = new Subscriptions(store);
      Deliveries plain = new Deliveries();
      Deliveries pair = new Deliveries();
      List<Subscription> subscriptions = new ArrayList<>();
      subscriptions.add(nodeA.start(options("soak-plain"), plain::record));
      subscriptions.add(nodeA.startTransactional(options("soak-projection"), this::project));
      subscriptions.add(nodeA.start(options("soak-pair"), pair::record));
      subscriptions.add(nodeB.start(options("soak-pair"), pair::record));

      ExecutorService threads = Executors.newFixedThreadPool(6);
      List<Future<?>> work = new ArrayList<>();
      work.add(threads.submit(() -> writeLoop(() -> exactAppend(store, hotStream()))));
      work.add(threads.submit(() -> writeLoop(() -> anyAppend(store, hotStream()))));
      work.add(threads.submit(() -> writeLoop(() -> batchAppend(store))));
      work.add(threads.submit(() -> writeLoop(() -> atomicAppend(store))));
      work.add(threads.submit(() -> nemesis(postgres, pool)));
      Thread.sleep(TimeUnit.SECONDS.toMillis(faultSeconds));
      running.set(false);
      for (Future<?> task : work) {
        task.get(2, TimeUnit.MINUTES);
      }
      threads.shutdown();

      List<RecordedEvent> log = readWholeLog(store);
      Position head = log.get(log.size() - 1).position();
      for (Subscription subscription : subscriptions) {
        if (subscription.state() != SubscriptionState.STANDBY) {
          assertThat(subscription.awaitPosition(head, CATCH_UP))
              .as("%s caught up", subscription.name())
              .isTrue();
        }
      }
      String facts =
          "events=%d acknowledged=%d nemesis=%s"
              .formatted(log.size(), acknowledged.size(), nemesisActions);
      FaultInjectionSoakTest.log.info("Soak: {}", facts);

      assertEveryAcknowledgedAppendIsThereOnceWithDenseVersions(log);
      assertPerStreamOrder("readAll", log);
      assertThat(new HashSet<>(log.stream().map(RecordedEvent::eventId).toList()))
          .hasSize(log.size());
      plain.assertSawInOrder("plain subscription", log);
      pair.assertSawInOrder("two instances of one subscription", log);
      assertProjectedExactlyOnce(pool, log);
      assertThat(nodeA.failures(null, 10)).as("parked failures").isEmpty();
      assertThat(subscriptions.stream().map(Subscription::state))
          .as("states")
          .containsOnly(SubscriptionState.RUNNING, SubscriptionState.STANDBY);
      assertThat(subscriptions.stream().filter(s -> s.state() == SubscriptionState.RUNNING))
          .as("one instance of each subscription runs")
          .hasSize(3);
      assertThat(nemesisActions.keySet())
          .as("every fault was injected")
          .contains("terminate", "restart-fast", "restart-immediate", "hold-xid");

      subscriptions.forEach(Subscription::stop);
      store.close();
      assertThat(advisoryLocks(pool)).as("advisory locks after stop()").isZero();
    }
  }

  private static HikariDataSource pool(String jdbcUrl) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setUsername("postgres");
    config.setMaximumPoolSize(16);
    config.setConnectionTimeout(3_000);
    config.setPoolName("soak");
    return new HikariDataSource(config);
  }

  private static SubscriptionOptions options(String name) {
    return SubscriptionOptions.named(name)
        .filter(EventFilter.categories(CATEGORY))
        .batchSize(50)
        .pollInterval(Duration.ofMillis(100))
        .standbyInterval(Duration.ofMillis(100))
        .retryPolicy(new RetryPolicy(3, Duration.ofMillis(10), 2, Duration.ofMillis(50)));
  }

  // ---------------------------------------------------------------- writers

  private static String hotStream() {
    return CATEGORY + "-hot" + new Random().nextInt(HOT_STREAMS);
  }

  /** Runs one kind of append until the fault phase ends; each call retries until acknowledged. */
  private void writeLoop(Runnable append) {
    while (running.get()) {
      append.run();
    }
  }

  /**
   * Retries one append with the same event ids until it is acknowledged: after a failure whose
   * outcome is unknown, the store answers a repeat with the first result, or refuses a repeat at
   * another expected version as a duplicate, which also means the first one was written.
   */
  private void untilAcknowledged(List<EventData> events, Supplier<?> append) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (true) {
      try {
        append.get();
        break;
      } catch (DuplicateEventIdException written) {
        break;
      } catch (WrongExpectedVersionException conflict) {
        // re-read below
      } catch (EventStoreException storage) {
        pause(50); // PostgreSQL restarting or a connection killed
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("an append was never acknowledged");
      }
    }
    events.forEach(event -> acknowledged.put(event.eventId(), "acked"));
  }

  private void exactAppend(EventStore store, String stream) {
    List<EventData> events = List.of(event());
    untilAcknowledged(
        events,
        () -> store.append(stream, ExpectedVersion.exactly(version(store, stream)), events));
  }

  private void anyAppend(EventStore store, String stream) {
    List<EventData> events = List.of(event());
    untilAcknowledged(events, () -> store.append(stream, ExpectedVersion.any(), events));
  }

  private void batchAppend(EventStore store) {
    String stream = hotStream();
    List<EventData> events = List.of(event(), event(), event());
    untilAcknowledged(
        events,
        () -> store.append(stream, ExpectedVersion.exactly(version(store, stream)), events));
  }

  private void atomicAppend(EventStore store) {
    String first = hotStream();
    String second = first.equals(CATEGORY + "-hot0") ? CATEGORY + "-hot1" : CATEGORY + "-hot0";
    List<EventData> one = List.of(event());
    List<EventData> two = List.of(event(), event());
    List<EventData> all = new ArrayList<>(one);
    all.addAll(two);
    untilAcknowledged(
        all,
        () ->
            store.appendAtomically(
                List.of(
                    new StreamAppend(first, ExpectedVersion.exactly(version(store, first)), one),
                    new StreamAppend(second, ExpectedVersion.any(), two))));
  }

  private static long version(EventStore store, String stream) {
    return store.streamInfo(stream).map(info -> info.version()).orElse(0L);
  }

  private static EventData event() {
    return EventData.of("Happened", "{\"n\":1}", EventMetadata.EMPTY);
  }

  // ---------------------------------------------------------------- nemesis

  private void nemesis(RestartablePostgres postgres, HikariDataSource pool) {
    Random random = new Random(42);
    List<String> plan =
        new ArrayList<>(
            List.of("terminate", "restart-fast", "hold-xid", "terminate", "restart-immediate"));
    int step = 0;
    pause(1_500);
    while (running.get()) {
      String action = step < plan.size() ? plan.get(step) : plan.get(random.nextInt(plan.size()));
      step++;
      try {
        switch (action) {
          case "terminate" -> postgres.terminateBackends(random, 4);
          case "restart-fast" -> postgres.restart(false);
          case "restart-immediate" -> postgres.restart(true);
          case "hold-xid" -> postgres.holdTransactionId(Duration.ofSeconds(2), c -> {});
          default -> throw new IllegalStateException(action);
        }
        nemesisActions.computeIfAbsent(action, a -> new AtomicInteger()).incrementAndGet();
      } catch (Exception e) {
        log.warn("Nemesis action {} failed: {}", action, e.toString());
      }
      pause(1_500 + random.nextInt(1_500));
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- the transactional projection

  private static void createProjectionTable(HikariDataSource pool) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE soak_projection (event_id uuid PRIMARY KEY, stream_id text NOT NULL,"
              + " stream_version bigint NOT NULL, UNIQUE (stream_id, stream_version))");
    }
  }

  /**
   * Exactly once and in order, or it fails loudly: the primary key refuses a second delivery, and
   * the previous version of the stream must already be projected.
   */
  private void project(RecordedEvent event, Connection transaction) throws SQLException {
    if (event.streamVersion() > 1) {
      try (PreparedStatement previous =
          transaction.prepareStatement(
              "SELECT 1 FROM soak_projection WHERE stream_id = ? AND stream_version = ?")) {
        previous.setString(1, event.streamId());
        previous.setLong(2, event.streamVersion() - 1);
        try (ResultSet row = previous.executeQuery()) {
          if (!row.next()) {
            throw new IllegalStateException("out of order: " + event);
          }
        }
      }
    }
    try (PreparedStatement insert =
        transaction.prepareStatement("INSERT INTO soak_projection VALUES (?, ?, ?)")) {
      insert.setObject(1, event.eventId());
      insert.setString(2, event.streamId());
      insert.setLong(3, event.streamVersion());
      insert.executeUpdate();
    }
  }

  // ---------------------------------------------------------------- checks

  private static List<RecordedEvent> readWholeLog(EventStore store) {
    List<RecordedEvent> events = new ArrayList<>();
    Position after = Position.START;
    while (true) {
      GlobalLogPage page = store.readAll(after, EventFilter.categories(CATEGORY), 1_000);
      events.addAll(page.events());
      after = page.next();
      if (page.endOfLog()) {
        return events;
      }
    }
  }

  private void assertEveryAcknowledgedAppendIsThereOnceWithDenseVersions(List<RecordedEvent> log) {
    Set<UUID> stored = new HashSet<>();
    Map<String, List<Long>> versions = new HashMap<>();
    for (RecordedEvent event : log) {
      stored.add(event.eventId());
      versions.computeIfAbsent(event.streamId(), s -> new ArrayList<>()).add(event.streamVersion());
    }
    assertThat(stored).as("acknowledged appends").containsAll(acknowledged.keySet());
    versions.forEach(
        (stream, list) -> {
          List<Long> sorted = new ArrayList<>(list);
          Collections.sort(sorted);
          for (int i = 0; i < sorted.size(); i++) {
            assertThat(sorted.get(i)).as("%s versions dense", stream).isEqualTo(i + 1L);
          }
        });
  }

  /** Global order strictly increasing, and per stream each version right after the previous. */
  private static void assertPerStreamOrder(String reader, List<RecordedEvent> events) {
    Map<String, Long> last = new HashMap<>();
    Position previous = Position.START;
    for (RecordedEvent event : events) {
      assertThat(event.position()).as("%s global order", reader).isGreaterThan(previous);
      previous = event.position();
      long before = last.getOrDefault(event.streamId(), 0L);
      assertThat(event.streamVersion())
          .as("%s: %s after version %d", reader, event.streamId(), before)
          .isEqualTo(before + 1);
      last.put(event.streamId(), event.streamVersion());
    }
  }

  private static void assertProjectedExactlyOnce(HikariDataSource pool, List<RecordedEvent> log)
      throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet row = s.executeQuery("SELECT count(*) FROM soak_projection")) {
      row.next();
      assertThat(row.getLong(1)).as("transactional projection rows").isEqualTo(log.size());
    }
  }

  private static long advisoryLocks(HikariDataSource pool) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet row =
            s.executeQuery(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock'")) {
      row.next();
      return row.getLong(1);
    }
  }

  /**
   * What an at-least-once subscription delivered, in delivery order. Redeliveries after a restart
   * repeat events; what must hold is that each event's first delivery comes after the first
   * delivery of every earlier version of its stream, and that nothing is missing.
   */
  private static final class Deliveries {
    private final List<RecordedEvent> delivered = Collections.synchronizedList(new ArrayList<>());

    void record(RecordedEvent event) {
      delivered.add(event);
    }

    void assertSawInOrder(String who, List<RecordedEvent> log) {
      Set<UUID> seen = new HashSet<>();
      List<RecordedEvent> firstDeliveries = new ArrayList<>();
      synchronized (delivered) {
        for (RecordedEvent event : delivered) {
          if (seen.add(event.eventId())) {
            firstDeliveries.add(event);
          }
        }
      }
      assertThat(seen).as("%s delivered every event", who).hasSize(log.size());
      Map<String, Long> last = new HashMap<>();
      for (RecordedEvent event : firstDeliveries) {
        long before = last.getOrDefault(event.streamId(), 0L);
        assertThat(event.streamVersion())
            .as("%s: %s after version %d", who, event.streamId(), before)
            .isEqualTo(before + 1);
        last.put(event.streamId(), event.streamVersion());
      }
    }
  }
}
