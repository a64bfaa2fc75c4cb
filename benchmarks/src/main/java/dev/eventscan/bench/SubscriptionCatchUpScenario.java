package dev.eventscan.bench;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.subscription.Subscription;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.eventstore.subscription.Subscriptions;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A new subscription consuming 1,000,000 events from the start (handler, checkpoint per batch of
 * 1,000), against the raw limit of simply paging through them with {@code readAll}.
 */
final class SubscriptionCatchUpScenario extends RatioScenario {
  static final int EVENTS = 1_000_000;

  @Override
  public String name() {
    return "subscription-catchup";
  }

  @Override
  public void prepare(BenchmarkDatabase database) throws Exception {
    LogFill.fill(database.store(), EVENTS);
  }

  @Override
  Measurement runOurs(BenchmarkDatabase database) throws Exception {
    Position head = database.store().headPosition();
    AtomicLong handled = new AtomicLong();
    long start = System.nanoTime();
    Subscription subscription =
        new Subscriptions(database.store())
            .start(
                SubscriptionOptions.named("catchup-" + UUID.randomUUID()).batchSize(1_000),
                event -> handled.incrementAndGet());
    try {
      if (!subscription.awaitPosition(head, Duration.ofMinutes(5))) {
        throw new IllegalStateException("subscription did not catch up");
      }
      return Measurement.rate(
          ReadAllScenario.check(handled.get()) / ((System.nanoTime() - start) / 1e9));
    } finally {
      subscription.stop();
    }
  }

  @Override
  Measurement runLimit(BenchmarkDatabase database) throws Exception {
    long start = System.nanoTime();
    return Measurement.rate(
        ReadAllScenario.check(ReadAllScenario.readEverything(database.store()))
            / ((System.nanoTime() - start) / 1e9));
  }
}
