package dev.eventscan.eventstore.subscription;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.NotifyMode;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Subscriptions when connections fail, pools run dry and operators click twice. */
@ExtendWith(PostgresExtension.class)
class SubscriptionFaultTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static TestDatabase database;
  private static EventStore store;
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

  private static SubscriptionOptions options(String category) {
    return SubscriptionOptions.named("fault-" + UUID.randomUUID())
        .filter(EventFilter.categories(category))
        .pollInterval(Duration.ofMillis(50))
        .standbyInterval(Duration.ofMillis(50))
        .retryPolicy(new RetryPolicy(3, Duration.ofMillis(10), 2, Duration.ofMillis(50)));
  }

  private static String newCategory(String prefix) {
    return prefix + UUID.randomUUID().toString().substring(0, 8);
  }

  private Subscription track(Subscription subscription) {
    started.add(subscription);
    return subscription;
  }

  @Test
  void an_exhausted_pool_never_leaves_the_lock_or_listen_on_a_pooled_connection() throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(database.jdbcUrl());
    config.setUsername(database.user());
    config.setPassword(database.password());
    config.setMaximumPoolSize(3);
    config.setConnectionTimeout(250);
    try (HikariDataSource pool = new HikariDataSource(config);
        EventStore small =
            EventStore.builder(pool).migrate(false).notifyMode(NotifyMode.NONE).build()) {
      String category = newCategory("pool");
      SubscriptionOptions options = options(category);
      Subscriptions subscriptions = new Subscriptions(small);
      List<String> received = java.util.Collections.synchronizedList(new ArrayList<>());
      Subscription subscription =
          subscriptions.start(options, event -> received.add(event.streamId()));
      Await.until("running", WAIT, () -> subscription.state() == SubscriptionState.RUNNING);

      // Take every connection but the worker's control connection and the store's append
      // listener: the worker's next read times out.
      List<Connection> hogged = new ArrayList<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (hogged.size() < config.getMaximumPoolSize() - 2 && System.nanoTime() < deadline) {
        try {
          hogged.add(pool.getConnection());
        } catch (SQLException busy) {
          // the worker holds one for a moment: try again
        }
      }
      Await.until(
          "the worker notices", WAIT, () -> subscription.state() != SubscriptionState.RUNNING);
      for (Connection connection : hogged) {
        connection.close();
      }

      String streamId = newStreamId(category);
      small.append(streamId, ExpectedVersion.noStream(), event("After", 1));
      Await.until("delivered after the pool recovered", WAIT, () -> received.contains(streamId));
      subscription.stop();

      assertThat(advisoryLocks()).as("advisory locks left after stop()").isZero();
      List<Connection> pooled = new ArrayList<>();
      try {
        while (true) {
          pooled.add(pool.getConnection());
        }
      } catch (SQLException poolExhausted) {
        // every connection the pool will give is checked
      }
      assertThat(pooled).isNotEmpty();
      for (Connection connection : pooled) {
        assertThat(listeningChannels(connection)).isZero();
        connection.close();
      }

      Subscription successor =
          track(new Subscriptions(store).start(options, event -> received.add(event.streamId())));
      Await.until(
          "another node takes over", WAIT, () -> successor.state() == SubscriptionState.RUNNING);
    }
  }

  @Test
  void a_transactional_handler_blocked_by_the_database_pauses_instead_of_parking()
      throws Exception {
    String category = newCategory("outage");
    String streamId = newStreamId(category);
    String table = "read_model_" + category;
    try (Connection admin = database.openUnpooledConnection();
        Statement ddl = admin.createStatement()) {
      ddl.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, n int NOT NULL)");
      ddl.execute("INSERT INTO " + table + " VALUES (1, 0)");
    }
    // Another session locks the read model's table (a table lock takes no transaction id, so the
    // global log is not held back): the handler's update times out on the lock (SQLSTATE 55P03)
    // more often than the retry policy's three attempts.
    Connection holder = database.openUnpooledConnection();
    holder.setAutoCommit(false);
    try (Statement lock = holder.createStatement()) {
      lock.execute("LOCK TABLE " + table + " IN EXCLUSIVE MODE");
    }
    AtomicInteger blocked = new AtomicInteger();
    List<String> projected = java.util.Collections.synchronizedList(new ArrayList<>());
    SubscriptionOptions options = options(category);
    Subscriptions subscriptions = new Subscriptions(store);
    track(
        subscriptions.startTransactional(
            options,
            (event, connection) -> {
              try (Statement update = connection.createStatement()) {
                update.execute("SET LOCAL lock_timeout = '20ms'");
                update.execute("UPDATE " + table + " SET n = n + 1 WHERE id = 1");
              } catch (SQLException e) {
                blocked.incrementAndGet();
                throw e;
              }
              projected.add(event.streamId());
            }));
    store.append(streamId, ExpectedVersion.noStream(), event("Happened", 1));

    Await.until("blocked more often than the retry policy allows", WAIT, () -> blocked.get() > 5);
    holder.rollback();
    holder.close();
    Await.until("projected once the lock is free", WAIT, () -> projected.contains(streamId));
    assertThat(subscriptions.failures(null, 100))
        .noneMatch(f -> f.subscription().equals(options.name()));
  }

  @Test
  void two_concurrent_retries_of_one_parked_failure_deliver_it_once() throws Exception {
    String category = newCategory("retry");
    String streamId = newStreamId(category);
    store.append(streamId, ExpectedVersion.noStream(), event("Happened", 1));
    ConcurrentHashMap<String, Boolean> healed = new ConcurrentHashMap<>();
    AtomicInteger deliveredAfterHealing = new AtomicInteger();
    SubscriptionOptions options = options(category);
    Subscriptions subscriptions = new Subscriptions(store);
    track(
        subscriptions.start(
            options,
            event -> {
              if (!healed.containsKey("yes")) {
                throw new IllegalStateException("broken");
              }
              deliveredAfterHealing.incrementAndGet();
              Thread.sleep(300); // a slow handler: both retries are in flight together
            }));
    ParkedFailure parked = awaitParked(subscriptions, options.name());
    healed.put("yes", true);

    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<String>> retries = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      retries.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  go.await();
                  return subscriptions.retryFailure(parked.id()).status();
                } catch (FailureAlreadySettledException e) {
                  return "refused";
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    go.countDown();
    List<String> outcomes = new ArrayList<>();
    for (CompletableFuture<String> retry : retries) {
      outcomes.add(retry.get(30, TimeUnit.SECONDS));
    }

    assertThat(outcomes).containsExactlyInAnyOrder(ParkedFailure.RETRIED, "refused");
    assertThat(deliveredAfterHealing.get()).isEqualTo(1);
  }

  @Test
  void a_replay_supersedes_the_open_failures_it_delivers_again() {
    String category = newCategory("replay");
    store.append(newStreamId(category), ExpectedVersion.noStream(), event("Happened", 1));
    SubscriptionOptions options = options(category);
    Subscriptions subscriptions = new Subscriptions(store);
    Subscription subscription =
        subscriptions.start(
            options,
            event -> {
              throw new IllegalStateException("broken");
            });
    ParkedFailure parked = awaitParked(subscriptions, options.name());
    subscription.stop();

    subscriptions.resetCheckpoint(options.name(), dev.eventscan.eventstore.position.Position.START);

    assertThat(subscriptions.failure(parked.id()).status()).isEqualTo(ParkedFailure.SUPERSEDED);
    assertThatThrownBy(() -> subscriptions.retryFailure(parked.id()))
        .isInstanceOf(FailureAlreadySettledException.class);
  }

  private static ParkedFailure awaitParked(Subscriptions subscriptions, String name) {
    Await.until(
        "parked",
        WAIT,
        () ->
            subscriptions.failures(ParkedFailure.OPEN, 100).stream()
                .anyMatch(f -> f.subscription().equals(name)));
    return subscriptions.failures(ParkedFailure.OPEN, 100).stream()
        .filter(f -> f.subscription().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private static long advisoryLocks() throws SQLException {
    try (Connection c = database.openUnpooledConnection();
        Statement s = c.createStatement();
        ResultSet row =
            s.executeQuery(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock'"
                    + " AND database = (SELECT oid FROM pg_database"
                    + " WHERE datname = current_database())")) {
      row.next();
      return row.getLong(1);
    }
  }

  private static long listeningChannels(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement();
        ResultSet row = s.executeQuery("SELECT count(*) FROM pg_listening_channels()")) {
      row.next();
      return row.getLong(1);
    }
  }
}
