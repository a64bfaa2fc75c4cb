package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.StreamSegment;
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
 * @param segments 1 for one owner at a time; K &gt; 1 to split the streams into K segments by a
 *     stable hash of the stream id, each with its own checkpoint and owner, shared by the nodes
 *     running the subscription (see {@link #segments(int)})
 */
public record SubscriptionOptions(
    String name,
    EventFilter filter,
    Position startFrom,
    int batchSize,
    Duration pollInterval,
    Duration standbyInterval,
    RetryPolicy retryPolicy,
    FailurePolicy failurePolicy,
    int segments) {

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
    if (segments < 1 || segments > StreamSegment.MAX_COUNT) {
      throw new IllegalArgumentException(
          "segments must be within 1.." + StreamSegment.MAX_COUNT + ", not " + segments);
    }
  }

  /** Defaults: all events from the start, batches of 500, polling every 500 ms, one segment. */
  public static SubscriptionOptions named(String name) {
    return new SubscriptionOptions(
        name,
        EventFilter.all(),
        Position.START,
        500,
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        RetryPolicy.DEFAULT,
        FailurePolicy.PARK_AND_CONTINUE,
        1);
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
        failurePolicy,
        segments);
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
        failurePolicy,
        segments);
  }

  public SubscriptionOptions batchSize(int size) {
    return new SubscriptionOptions(
        name,
        filter,
        startFrom,
        size,
        pollInterval,
        standbyInterval,
        retryPolicy,
        failurePolicy,
        segments);
  }

  public SubscriptionOptions pollInterval(Duration interval) {
    return new SubscriptionOptions(
        name,
        filter,
        startFrom,
        batchSize,
        interval,
        standbyInterval,
        retryPolicy,
        failurePolicy,
        segments);
  }

  public SubscriptionOptions standbyInterval(Duration interval) {
    return new SubscriptionOptions(
        name,
        filter,
        startFrom,
        batchSize,
        pollInterval,
        interval,
        retryPolicy,
        failurePolicy,
        segments);
  }

  public SubscriptionOptions retryPolicy(RetryPolicy policy) {
    return new SubscriptionOptions(
        name,
        filter,
        startFrom,
        batchSize,
        pollInterval,
        standbyInterval,
        policy,
        failurePolicy,
        segments);
  }

  public SubscriptionOptions failurePolicy(FailurePolicy policy) {
    return new SubscriptionOptions(
        name,
        filter,
        startFrom,
        batchSize,
        pollInterval,
        standbyInterval,
        retryPolicy,
        policy,
        segments);
  }

  /**
   * Splits the subscription into {@code count} segments by a stable hash of the stream id (one
   * stream's events stay in order in one segment). Each segment has its own checkpoint, stored as
   * {@code <name>#<index>}, and one owner at a time; the nodes running the subscription share the
   * segments evenly, take over those of a node that stops or dies, and give some back when a node
   * joins. The count is fixed for a subscription's checkpoints: starting it with another count is
   * refused.
   */
  public SubscriptionOptions segments(int count) {
    return new SubscriptionOptions(
        name,
        filter,
        startFrom,
        batchSize,
        pollInterval,
        standbyInterval,
        retryPolicy,
        failurePolicy,
        count);
  }

  /** The options of one segment's worker: its own checkpoint name, only its streams. */
  SubscriptionOptions segment(int index) {
    return new SubscriptionOptions(
        name + "#" + index,
        filter.inSegment(new StreamSegment(index, segments)),
        startFrom,
        batchSize,
        pollInterval,
        standbyInterval,
        retryPolicy,
        failurePolicy,
        segments);
  }
}
