package dev.eventscan.eventstore.internal;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.NotifyMode;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.subscription.Await;
import dev.eventscan.eventstore.subscription.Subscription;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The after-commit NOTIFY goes out only while another store listens: the appending store's own
 * readers are woken at the commit, and a NOTIFY nobody asked for is a transaction per few
 * milliseconds that appends pay for. Each test has a schema (and so a channel) of its own, so
 * stores other tests leave open do not count as listeners.
 */
@ExtendWith(PostgresExtension.class)
class AppendHintsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @Test
  void no_hint_is_sent_while_only_the_appending_store_listens(TestDatabase database)
      throws Exception {
    String schema = "hints_" + UUID.randomUUID().toString().substring(0, 8);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    try (EventStore store = EventStore.builder(database.dataSource()).schema(schema).build();
        Connection bystander = listeningBystander(database, store)) {
      // The store's own subscription listens: its listener is not another store.
      Subscription own = store.subscriptions().start(options(), received::add);
      own.caughtUp().get();

      for (int i = 0; i < 5; i++) {
        store.append(newStreamId("hint"), ExpectedVersion.noStream(), event("Quiet", i));
      }

      Await.until("own subscription's events", WAIT, () -> received.size() == 5);
      assertThat(hints(bystander, Duration.ofMillis(500))).as("hints sent").isEmpty();
    }
  }

  @Test
  void hints_go_out_once_another_store_listens(TestDatabase database) throws Exception {
    String schema = "hints_" + UUID.randomUUID().toString().substring(0, 8);
    List<RecordedEvent> received = Collections.synchronizedList(new ArrayList<>());
    try (EventStore appender = EventStore.builder(database.dataSource()).schema(schema).build();
        EventStore otherProcess =
            EventStore.builder(database.dataSource()).schema(schema).migrate(false).build();
        Connection bystander = listeningBystander(database, appender)) {
      otherProcess
          .subscriptions()
          .start(options().pollInterval(Duration.ofSeconds(60)), received::add)
          .caughtUp()
          .get();

      // Whether anyone listens is looked up at most once a second: append until the hint comes.
      List<PGNotification> seen = new ArrayList<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      for (int i = 0; seen.isEmpty() && System.nanoTime() < deadline; i++) {
        appender.append(newStreamId("hint"), ExpectedVersion.noStream(), event("Loud", i));
        seen.addAll(hints(bystander, Duration.ofMillis(100)));
      }
      assertThat(seen).as("hints sent").isNotEmpty();
      // Far below the other store's 60 s poll interval: the hint woke it.
      Await.until("the other store's events", WAIT, () -> !received.isEmpty());
    }
  }

  @Test
  void an_in_transaction_hint_does_not_wake_the_appending_stores_own_readers_a_second_time(
      TestDatabase database) throws Exception {
    String schema = "hints_" + UUID.randomUUID().toString().substring(0, 8);
    try (EventStore store =
            EventStore.builder(database.dataSource())
                .schema(schema)
                .notifyMode(NotifyMode.IN_TRANSACTION)
                .build();
        Connection bystander = listeningBystander(database, store)) {
      AppendSignal signal = ((PostgresEventStore) store).appendSignal();
      long before = signal.mark(); // starts the store's listener

      store.append(newStreamId("hint"), ExpectedVersion.noStream(), event("InTransaction", 0));

      // Other processes get the hint; once it has arrived here, the store's listener has had it
      // too.
      assertThat(hints(bystander, WAIT)).as("hints sent").hasSize(1);
      Thread.sleep(200);
      // The commit woke the store's readers; its own hint, coming back, must not wake them again.
      assertThat(signal.mark() - before).as("wake-ups").isEqualTo(1);
    }
  }

  private static SubscriptionOptions options() {
    return SubscriptionOptions.named("hints-" + UUID.randomUUID())
        .filter(EventFilter.categories("hint"))
        .pollInterval(Duration.ofSeconds(60));
  }

  /** A bare LISTEN on the store's channel: it sees the hints, but asks for none (no store). */
  private static Connection listeningBystander(TestDatabase database, EventStore store)
      throws Exception {
    Connection connection = database.openUnpooledConnection();
    try (Statement listen = connection.createStatement()) {
      listen.execute("LISTEN " + store.notificationChannel());
    }
    return connection;
  }

  private static List<PGNotification> hints(Connection bystander, Duration wait) throws Exception {
    PGNotification[] hints =
        bystander.unwrap(PGConnection.class).getNotifications((int) wait.toMillis());
    return hints == null ? List.of() : List.of(hints);
  }
}
