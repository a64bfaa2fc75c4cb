package dev.eventscan.web;

import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import dev.eventscan.eventstore.subscription.Subscriptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every subscription's lag, sampled every {@link #INTERVAL} for the last {@link #KEPT}, in memory:
 * the monitor draws it on first paint. A restart starts the history afresh.
 */
final class LagHistory implements AutoCloseable {
  static final Duration INTERVAL = Duration.ofSeconds(5);
  static final Duration KEPT = Duration.ofMinutes(15);
  private static final int SAMPLES = (int) (KEPT.toSeconds() / INTERVAL.toSeconds());
  private static final Logger log = LoggerFactory.getLogger(LagHistory.class);

  /** One sample: when, and each subscription's lag in events. */
  record Sample(Instant at, Map<String, Long> lags) {}

  private final Subscriptions subscriptions;
  private final Deque<Sample> samples = new ArrayDeque<>();
  private final ScheduledExecutorService sampler =
      Executors.newSingleThreadScheduledExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "lag-history");
            thread.setDaemon(true);
            return thread;
          });

  LagHistory(Subscriptions subscriptions) {
    this.subscriptions = subscriptions;
  }

  LagHistory start() {
    sampler.scheduleWithFixedDelay(this::sample, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void sample() {
    try {
      Map<String, Long> lags = new LinkedHashMap<>();
      for (SubscriptionStatus status : subscriptions.list()) {
        lags.put(status.name(), status.lag());
      }
      synchronized (samples) {
        samples.addLast(new Sample(Instant.now(), lags));
        while (samples.size() > SAMPLES) {
          samples.removeFirst();
        }
      }
    } catch (RuntimeException e) {
      // A database hiccup leaves a gap in the chart; the next sample tries again.
      log.debug("Lag sample skipped", e);
    }
  }

  List<Sample> samples() {
    synchronized (samples) {
      return new ArrayList<>(samples);
    }
  }

  @Override
  public void close() {
    sampler.shutdownNow();
    try {
      sampler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
