package dev.eventscan.bench;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.subscription.Subscription;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.eventstore.subscription.SubscriptionState;
import dev.eventscan.eventstore.subscription.Subscriptions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A live subscription while one writer appends 1,000 events/s for 10 s: the time from the append
 * call returning (its commit acknowledged) to the handler being invoked, p50 and p99.
 */
final class SubscriptionLatencyScenario implements Scenario {
  private static final int RATE = Integer.getInteger("latency.rate", 1_000);
  private static final int SECONDS = 10;

  @Override
  public String name() {
    return "subscription-live-latency";
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    EventStore store =
        System.getenv("LATENCY_NOTIFY") == null
            ? database.store()
            : EventStore.builder(database.ours())
                .notifyMode(
                    dev.eventscan.eventstore.NotifyMode.valueOf(System.getenv("LATENCY_NOTIFY")))
                .build();
    Map<UUID, Long> committedAt = new ConcurrentHashMap<>();
    Map<UUID, Long> handledAt = new ConcurrentHashMap<>();
    Subscription subscription =
        new Subscriptions(store)
            .start(
                SubscriptionOptions.named("latency-" + UUID.randomUUID()).startFrom(Position.END),
                event -> handledAt.put(event.eventId(), System.nanoTime()));
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (subscription.state() != SubscriptionState.RUNNING) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("subscription did not start");
        }
        Thread.sleep(10); // "from now" is fixed once it runs; only then start the clock
      }
      String streamId = "latency-" + UUID.randomUUID();
      int total = RATE * SECONDS;
      long start = System.nanoTime();
      Position last = Position.START;
      for (int i = 0; i < total; i++) {
        long slot = start + i * 1_000_000_000L / RATE;
        long wait = slot - System.nanoTime();
        if (wait > 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
        EventData event = Payloads.event();
        last = store.append(streamId, ExpectedVersion.exactly(i), event).lastPosition();
        committedAt.put(event.eventId(), System.nanoTime());
      }
      if (!subscription.awaitPosition(last, Duration.ofMinutes(1))) {
        throw new IllegalStateException("subscription fell behind");
      }
      double[] millis =
          committedAt.entrySet().stream()
              .mapToDouble(e -> Math.max(0, handledAt.get(e.getKey()) - e.getValue()) / 1_000_000.0)
              .sorted()
              .toArray();
      double achievedRate = total / ((System.nanoTime() - start) / 1e9);
      System.out.printf(
          Locale.ROOT,
          "# %s: %d events at %.0f/s; max_ms=%.1f%n",
          name(),
          millis.length,
          achievedRate,
          Arrays.stream(millis).max().orElse(0));
      return String.format(
          Locale.ROOT,
          "p50_ms=%.2f p99_ms=%.2f",
          percentile(millis, 0.50),
          percentile(millis, 0.99));
    } finally {
      subscription.stop();
    }
  }

  private static double percentile(double[] sorted, double p) {
    return sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  }
}
