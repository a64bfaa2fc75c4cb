package dev.eventscan.eventstore.subscription;

import static dev.eventscan.eventstore.Events.event;
import static dev.eventscan.eventstore.Events.events;
import static dev.eventscan.eventstore.Events.newStreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link SubscriptionOptions#batchInterval}: a caught-up subscription that need not be live takes
 * what comes within the interval in one batch (one transaction instead of one per append), and
 * catching up is not slowed by it.
 */
@ExtendWith(PostgresExtension.class)
class SubscriptionBatchIntervalTest {
  private static EventStore store;
  private Subscription subscription;

  @BeforeAll
  static void createStore(TestDatabase database) {
    store = EventStore.builder(database.dataSource()).build();
  }

  @AfterEach
  void stop() {
    if (subscription != null) {
      subscription.stop();
    }
  }

  /** A batch: its size, and when its handler ran. */
  private record Batch(int size, long atNanos) {}

  private Subscription start(String category, Duration interval, List<Batch> batches) {
    subscription =
        new Subscriptions(store)
            .startTransactional(
                SubscriptionOptions.named("batched-" + UUID.randomUUID())
                    .filter(EventFilter.categories(category))
                    .batchSize(100)
                    .batchInterval(interval),
                TransactionalEventHandler.ofBatches(
                    (events, transaction) ->
                        batches.add(new Batch(events.size(), System.nanoTime()))));
    return subscription;
  }

  private static int handled(List<Batch> batches) {
    return batches.stream().mapToInt(Batch::size).sum();
  }

  @Test
  void appends_within_the_interval_after_a_batch_arrive_together_in_the_next_one()
      throws Exception {
    String category = "spaced" + UUID.randomUUID().toString().substring(0, 8);
    List<Batch> batches = new CopyOnWriteArrayList<>();
    Duration interval = Duration.ofSeconds(3);
    start(category, interval, batches).caughtUp().get(30, TimeUnit.SECONDS);

    store.append(newStreamId(category), ExpectedVersion.noStream(), event("First", 0));
    Await.until("the first batch", Duration.ofSeconds(30), () -> !batches.isEmpty());
    for (int i = 0; i < 5; i++) {
      store.append(newStreamId(category), ExpectedVersion.noStream(), event("Next", i));
    }
    Await.until("all six events", Duration.ofSeconds(30), () -> handled(batches) == 6);

    // Without the interval each of the five would be read and handled right after its append; the
    // interval runs from the read before the first batch, a little before its handler.
    long first = batches.get(0).atNanos();
    assertThat(batches.get(0).size()).isEqualTo(1);
    assertThat(batches.subList(1, batches.size()))
        .allSatisfy(
            later -> assertThat(later.atNanos() - first).isGreaterThan(interval.toNanos() / 2));
  }

  @Test
  void catching_up_reads_page_after_page_without_waiting_for_the_interval() throws Exception {
    String category = "behind" + UUID.randomUUID().toString().substring(0, 8);
    store.append(newStreamId(category), ExpectedVersion.noStream(), events("Old", 250));
    List<Batch> batches = new CopyOnWriteArrayList<>();

    // Spaced by a minute, three pages would take two minutes; caught up, all 250 are handled.
    start(category, Duration.ofMinutes(1), batches).caughtUp().get(30, TimeUnit.SECONDS);

    assertThat(handled(batches)).isEqualTo(250);
  }

  @Test
  void a_negative_interval_is_refused() {
    assertThatThrownBy(() -> SubscriptionOptions.named("x").batchInterval(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batchInterval");
  }
}
