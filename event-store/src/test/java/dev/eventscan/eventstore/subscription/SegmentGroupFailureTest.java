package dev.eventscan.eventstore.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node runs all its segments of a partitioned subscription on one thread ({@link SegmentGroup}):
 * a failing event of one segment must not hold the others back while it is retried, nor stop them
 * when its handler throws an {@link Error}. Both did (found in review): the retries waited on the
 * group's thread, and an Error ended it with every segment still shown running and assigned here.
 */
@ExtendWith(PostgresExtension.class)
class SegmentGroupFailureTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int SEGMENTS = 8;
  private static EventStore store;
  private final List<Subscription> started = new ArrayList<>();

  @BeforeAll
  static void createStore(TestDatabase database) {
    store = EventStore.builder(database.dataSource()).build();
  }

  @AfterEach
  void stop() {
    started.forEach(Subscription::stop);
  }

  private static SubscriptionOptions options(String category, RetryPolicy retry) {
    return SubscriptionOptions.named("group-" + category)
        .filter(EventFilter.categories(category))
        .segments(SEGMENTS)
        .pollInterval(Duration.ofMillis(100))
        .standbyInterval(Duration.ofMillis(200))
        .retryPolicy(retry);
  }

  private void start(SubscriptionOptions options, EventHandler handler) {
    Subscription subscription = store.subscriptions().start(options, handler);
    started.add(subscription);
    Await.until("running", WAIT, () -> subscription.state() == SubscriptionState.RUNNING);
  }

  /** A stream of {@code category} in another segment than {@code stream}'s. */
  private static String inAnotherSegment(String category, String stream) {
    int segment = StreamSegment.indexOf(stream, SEGMENTS);
    for (int i = 0; ; i++) {
      String other = category + "-other" + i;
      if (StreamSegment.indexOf(other, SEGMENTS) != segment) {
        return other;
      }
    }
  }

  @Test
  void a_retrying_event_does_not_hold_back_the_nodes_other_segments() {
    String category = "retrying" + UUID.randomUUID().toString().substring(0, 8);
    String poisoned = category + "-poisoned";
    String other = inAnotherSegment(category, poisoned);
    AtomicInteger attempts = new AtomicInteger();
    List<Long> otherVersions = new ArrayList<>();
    // 20 attempts half a second apart: about 10 s of retries.
    start(
        options(category, new RetryPolicy(20, Duration.ofMillis(500), 1, Duration.ofMillis(500))),
        event -> {
          if (event.streamId().equals(poisoned)) {
            attempts.incrementAndGet();
            throw new IllegalStateException("poisoned");
          }
          synchronized (otherVersions) {
            otherVersions.add(event.streamVersion());
          }
        });

    store.append(poisoned, ExpectedVersion.noStream(), EventData.of("E", "{}"));
    Await.until("the poisoned event's first attempt", WAIT, () -> attempts.get() >= 1);
    for (int i = 0; i < 5; i++) {
      store.append(other, ExpectedVersion.any(), EventData.of("E", "{}"));
    }
    Await.until("the other segment's events", WAIT, () -> size(otherVersions) == 5);

    assertThat(attempts.get()).as("attempts on the poisoned event meanwhile").isLessThan(5);
    assertThat(otherVersions).containsExactly(1L, 2L, 3L, 4L, 5L);
    // The poisoned event is still tried on schedule, and parked at the last attempt.
    Await.until("all attempts", WAIT, () -> attempts.get() == 20);
  }

  @Test
  void a_retrying_event_far_behind_the_others_is_neither_skipped_nor_repeated() {
    String category = "behind" + UUID.randomUUID().toString().substring(0, 8);
    String flaky = category + "-flaky";
    String other = inAnotherSegment(category, flaky);
    AtomicInteger attempts = new AtomicInteger();
    List<String> handled = new ArrayList<>();
    // Pages of 10: while the flaky event waits, the others read pages past it.
    start(
        options(category, new RetryPolicy(10, Duration.ofMillis(300), 1, Duration.ofMillis(300)))
            .batchSize(10),
        event -> {
          if (event.streamId().equals(flaky) && event.streamVersion() == 1) {
            if (attempts.incrementAndGet() < 4) {
              throw new IllegalStateException("not yet");
            }
          }
          synchronized (handled) {
            handled.add(event.streamId() + "@" + event.streamVersion());
          }
        });

    store.append(flaky, ExpectedVersion.noStream(), EventData.of("E", "{}"));
    Await.until("the flaky event's first attempt", WAIT, () -> attempts.get() >= 1);
    for (int i = 0; i < 50; i++) {
      store.append(other, ExpectedVersion.any(), EventData.of("E", "{}"));
    }
    store.append(flaky, ExpectedVersion.exactly(1), EventData.of("E", "{}"));
    Await.until("every event", WAIT, () -> size(handled) == 52);

    List<String> flakyOnes;
    synchronized (handled) {
      flakyOnes = handled.stream().filter(h -> h.startsWith(flaky + "@")).toList();
    }
    assertThat(flakyOnes).containsExactly(flaky + "@1", flaky + "@2");
    assertThat(attempts.get()).isEqualTo(4);
  }

  @Test
  void an_error_from_a_handler_fails_its_event_only() {
    String category = "error" + UUID.randomUUID().toString().substring(0, 8);
    String poisoned = category + "-poisoned";
    String other = inAnotherSegment(category, poisoned);
    AtomicBoolean thrown = new AtomicBoolean();
    AtomicInteger poisonedHandled = new AtomicInteger();
    AtomicInteger otherHandled = new AtomicInteger();
    start(
        options(category, RetryPolicy.DEFAULT),
        event -> {
          if (event.streamId().equals(poisoned)) {
            if (thrown.compareAndSet(false, true)) {
              throw new AssertionError("an Error, not an Exception");
            }
            poisonedHandled.incrementAndGet();
          }
          if (event.streamId().equals(other)) {
            otherHandled.incrementAndGet();
          }
        });

    store.append(poisoned, ExpectedVersion.noStream(), EventData.of("E", "{}"));
    Await.until("the Error thrown", WAIT, thrown::get);
    store.append(other, ExpectedVersion.noStream(), EventData.of("E", "{}"));

    Await.until("another segment's event", WAIT, () -> otherHandled.get() == 1);
    Await.until("the event retried after its Error", WAIT, () -> poisonedHandled.get() == 1);
  }

  private static int size(List<?> list) {
    synchronized (list) {
      return list.size();
    }
  }
}
