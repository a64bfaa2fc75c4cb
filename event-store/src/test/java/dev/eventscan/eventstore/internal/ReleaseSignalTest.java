package dev.eventscan.eventstore.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.subscription.Subscription;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.eventstore.subscription.TransactionalEventHandler;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A store's readers waiting behind the barrier wake when one of the store's own transactions ends
 * (a projection's, a subscription's): it may have been what held them back, and its commit sends no
 * notification. Without it they waited for their next look, which grows with the wait (a quarter
 * more each time) to the poll interval. Idle readers sleep on.
 */
@ExtendWith(PostgresExtension.class)
class ReleaseSignalTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  @Test
  void the_end_of_a_subscriptions_transaction_wakes_held_back_readers_and_not_idle_ones(
      TestDatabase database) throws Exception {
    String schema = "release_" + UUID.randomUUID().toString().substring(0, 8);
    try (EventStore store = EventStore.builder(database.dataSource()).schema(schema).build()) {
      AppendSignal signal = ((PostgresEventStore) store).appendSignal();
      Subscription handler =
          store
              .subscriptions()
              .startTransactional(
                  SubscriptionOptions.named("release")
                      .filter(EventFilter.categories("raw"))
                      .pollInterval(Duration.ofMillis(100)),
                  TransactionalEventHandler.ofBatches((events, transaction) -> {}));
      handler.caughtUp().get(30, TimeUnit.SECONDS);

      long mark = signal.mark();
      long releaseMark = signal.releaseMark();
      insertBehindTheStoresBack(database, schema); // no signal: the handler finds it by polling
      long waited = timed(() -> signal.awaitHeldBack(mark, releaseMark, LONG));
      assertThat(waited).as("ms until woken").isLessThan(LONG.toMillis() / 2);

      long idleMark = signal.mark();
      Thread handling = new Thread(() -> insertBehindTheStoresBack(database, schema));
      handling.start();
      long slept = timed(() -> signal.await(idleMark, Duration.ofSeconds(2)));
      handling.join();
      assertThat(slept).as("ms an idle reader slept").isGreaterThanOrEqualTo(1_900);
      handler.stop();
    }
  }

  @FunctionalInterface
  private interface Wait {
    void run() throws InterruptedException;
  }

  private static long timed(Wait wait) throws InterruptedException {
    long start = System.nanoTime();
    wait.run();
    return (System.nanoTime() - start) / 1_000_000;
  }

  private static void insertBehindTheStoresBack(TestDatabase database, String schema) {
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement insert =
            c.prepareStatement(
                """
                INSERT INTO %s.events (event_id, stream_id, stream_version, type, data)
                VALUES (gen_random_uuid(), ?, 1, 'Raw', '{}')
                """
                    .formatted(schema))) {
      insert.setString(1, "raw-" + UUID.randomUUID());
      insert.executeUpdate();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
