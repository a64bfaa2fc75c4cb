package dev.eventscan.bench;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.live.LiveSubscription;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.subscription.Subscription;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.eventstore.subscription.SubscriptionState;
import dev.eventscan.web.Service;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Delivery latency while 1,000 events/s are appended for 10 s (8 writers, as one append waits for
 * its own WAL flush) with the service running beside them on the same database, so the app's three
 * projections (scan read model, statistics, process manager) and its live feed read and write as
 * they would. From the append returning to: a named subscription's handler ({@code
 * subscription_*}), a live subscription's listener ({@code live_*}), and the event going below the
 * transaction-id barrier at all ({@code below_barrier_*}, what no reader can beat), with the kinds
 * of transactions that held the barrier meanwhile.
 */
final class SubscriptionLatencyScenario implements Scenario {
  private static final int RATE = Integer.getInteger("latency.rate", 1_000);
  private static final int SECONDS = Integer.getInteger("latency.seconds", 10);

  @Override
  public String name() {
    return "subscription-live-latency";
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    EventStore store = database.store();
    String category = "latency" + UUID.randomUUID().toString().substring(0, 6);
    Map<Position, Long> handledAt = new ConcurrentHashMap<>();
    Map<Position, Long> liveAt = new ConcurrentHashMap<>();
    // The live subscription gets a store of its own: closing it stops its tailer with the scenario.
    try (Service service = ServiceScenarios.start(database, Map.of());
        EventStore liveStore = EventStore.builder(database.ours()).migrate(false).build();
        LiveSubscription live =
            liveStore
                .live()
                .subscribeFromNow(
                    EventFilter.categories(category),
                    event -> liveAt.put(event.position(), SseLoadGenerator.epochMicros()));
        BarrierProbe barrier = new BarrierProbe(database.jdbcUrl())) {
      Subscription subscription =
          store
              .subscriptions()
              .start(
                  SubscriptionOptions.named("latency-" + category)
                      .filter(EventFilter.categories(category))
                      .startFrom(Position.END),
                  event -> handledAt.put(event.position(), SseLoadGenerator.epochMicros()));
      try {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (subscription.state() != SubscriptionState.RUNNING) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("subscription did not start");
          }
          Thread.sleep(10); // "from now" is fixed once it runs; only then start the clock
        }
        Position[] positions = new Position[RATE * SECONDS];
        long started = System.nanoTime();
        long[] appendedAt =
            PacedAppends.run(
                RATE,
                SECONDS,
                i ->
                    positions[i] =
                        store
                            .append(
                                category + "-" + i, ExpectedVersion.noStream(), Payloads.event())
                            .lastPosition(),
                () -> {});
        double achieved = positions.length / ((System.nanoTime() - started) / 1e9);
        Position last = Arrays.stream(positions).max(Position::compareTo).orElseThrow();
        if (!subscription.awaitPosition(last, Duration.ofMinutes(1))) {
          throw new IllegalStateException("subscription fell behind");
        }
        long liveDeadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (liveAt.size() < positions.length && System.nanoTime() < liveDeadline) {
          Thread.sleep(10);
        }
        Thread.sleep(200); // the probe sees the last events below the barrier
        String belowBarrier = barrier.report(name(), positions, appendedAt);
        double[] handled = millisAfter(positions, appendedAt, handledAt);
        double[] delivered = millisAfter(positions, appendedAt, liveAt);
        System.out.printf(
            Locale.ROOT,
            "# %s: %d events at %.0f/s; subscription max_ms=%.1f, live max_ms=%.1f%n",
            name(),
            positions.length,
            achieved,
            handled[handled.length - 1],
            delivered[delivered.length - 1]);
        return String.format(
            Locale.ROOT,
            "rate=%.0f subscription_p50_ms=%.2f subscription_p99_ms=%.2f live_p50_ms=%.2f"
                + " live_p99_ms=%.2f %s",
            achieved,
            Measurement.percentile(handled, 0.50),
            Measurement.percentile(handled, 0.99),
            Measurement.percentile(delivered, 0.50),
            Measurement.percentile(delivered, 0.99),
            belowBarrier);
      } finally {
        subscription.stop();
      }
    }
  }

  /** Sorted delays from each append returning to when {@code seen} recorded it (NaN: never). */
  private static double[] millisAfter(
      Position[] positions, long[] appendedAt, Map<Position, Long> seen) {
    double[] millis = new double[positions.length];
    for (int i = 0; i < positions.length; i++) {
      Long at = seen.get(positions[i]);
      millis[i] = at == null ? Double.NaN : Math.max(0, at - appendedAt[i]) / 1000.0;
    }
    Arrays.sort(millis);
    return millis;
  }
}
