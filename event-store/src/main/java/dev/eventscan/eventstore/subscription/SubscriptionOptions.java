package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.position.Position;
import java.time.Duration;
import java.util.Objects;

/**
 * How a named subscription runs.
 *
 * @param startFrom where a subscription that has no checkpoint yet starts: {@link Position#START},
 *     {@link Position#END} (from now on) or a position
 * @param pollInterval the longest wait for new events when no notification arrives
 * @param standbyInterval how often a standby instance tries to take over the subscription
 */
public record SubscriptionOptions(
    String name,
    EventFilter filter,
    Position startFrom,
    int batchSize,
    Duration pollInterval,
    Duration standbyInterval,
    RetryPolicy retryPolicy,
    FailurePolicy failurePolicy) {

  public SubscriptionOptions {
    if (name == null || name.isBlank() || name.length() > 200) {
      throw new IllegalArgumentException("subscription name must be 1-200 characters");
    }
    Objects.requireNonNull(filter, "filter");
    Objects.requireNonNull(startFrom, "startFrom");
    if (batchSize < 1 || batchSize > 10_000) {
      throw new IllegalArgumentException("batchSize must be within 1..10000");
    }
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive");
    }
    if (standbyInterval.isNegative() || standbyInterval.isZero()) {
      throw new IllegalArgumentException("standbyInterval must be positive");
    }
    Objects.requireNonNull(retryPolicy, "retryPolicy");
    Objects.requireNonNull(failurePolicy, "failurePolicy");
  }

  /** Defaults: all events from the start, batches of 500, polling every 500 ms. */
  public static SubscriptionOptions named(String name) {
    return new SubscriptionOptions(
        name,
        EventFilter.all(),
        Position.START,
        500,
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        RetryPolicy.DEFAULT,
        FailurePolicy.PARK_AND_CONTINUE);
  }

  public SubscriptionOptions filter(EventFilter newFilter) {
    return new SubscriptionOptions(
        name,
        newFilter,
        startFrom,
        batchSize,
        pollInterval,
        standbyInterval,
        retryPolicy,
        failurePolicy);
  }

  public SubscriptionOptions startFrom(Position position) {
    return new SubscriptionOptions(
        name,
        filter,
        position,
        batchSize,
        pollInterval,
        standbyInterval,
        retryPolicy,
        failurePolicy);
  }

  public SubscriptionOptions batchSize(int size) {
    return new SubscriptionOptions(
        name, filter, startFrom, size, pollInterval, standbyInterval, retryPolicy, failurePolicy);
  }

  public SubscriptionOptions pollInterval(Duration interval) {
    return new SubscriptionOptions(
        name, filter, startFrom, batchSize, interval, standbyInterval, retryPolicy, failurePolicy);
  }

  public SubscriptionOptions standbyInterval(Duration interval) {
    return new SubscriptionOptions(
        name, filter, startFrom, batchSize, pollInterval, interval, retryPolicy, failurePolicy);
  }

  public SubscriptionOptions retryPolicy(RetryPolicy policy) {
    return new SubscriptionOptions(
        name, filter, startFrom, batchSize, pollInterval, standbyInterval, policy, failurePolicy);
  }

  public SubscriptionOptions failurePolicy(FailurePolicy policy) {
    return new SubscriptionOptions(
        name, filter, startFrom, batchSize, pollInterval, standbyInterval, retryPolicy, policy);
  }
}
