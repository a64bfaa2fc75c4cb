package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.position.Position;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

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
 * @param batchInterval the least time from one batch to the next once caught up (zero: none); see
 *     {@link #batchInterval(Duration)}
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
    int segments,
    Duration batchInterval) {

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
    Objects.requireNonNull(batchInterval, "batchInterval");
    if (batchInterval.isNegative()) {
      throw new IllegalArgumentException("batchInterval must not be negative");
    }
  }

  /**
   * Defaults: all events from the start, batches of 500, polling every 500 ms, one segment, each
   * batch as soon as its events are there.
   */
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
        1,
        Duration.ZERO);
  }

  public SubscriptionOptions filter(EventFilter newFilter) {
    return edit(draft -> draft.filter = newFilter);
  }

  public SubscriptionOptions startFrom(Position position) {
    return edit(draft -> draft.startFrom = position);
  }

  public SubscriptionOptions batchSize(int size) {
    return edit(draft -> draft.batchSize = size);
  }

  public SubscriptionOptions pollInterval(Duration interval) {
    return edit(draft -> draft.pollInterval = interval);
  }

  public SubscriptionOptions standbyInterval(Duration interval) {
    return edit(draft -> draft.standbyInterval = interval);
  }

  public SubscriptionOptions retryPolicy(RetryPolicy policy) {
    return edit(draft -> draft.retryPolicy = policy);
  }

  public SubscriptionOptions failurePolicy(FailurePolicy policy) {
    return edit(draft -> draft.failurePolicy = policy);
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
    return edit(draft -> draft.segments = count);
  }

  /**
   * Once caught up, handles the events that came in at most once per {@code interval}, in one
   * batch, instead of as soon as each arrives: for handlers that need not be live (counters,
   * charts). Each batch of a transactional handler holds a transaction id from its first write to
   * its commit, and no global reader (live feeds, other subscriptions) sees an event appended
   * meanwhile; fewer, larger batches hold them back less often. Catching up is not slowed.
   */
  public SubscriptionOptions batchInterval(Duration interval) {
    return edit(draft -> draft.batchInterval = interval);
  }

  /** The options of one segment's worker: its own checkpoint name, only its streams. */
  SubscriptionOptions segment(int index) {
    return edit(
        draft -> {
          draft.name = checkpointName(name, index);
          draft.filter = filter.inSegment(new StreamSegment(index, segments));
        });
  }

  /** The checkpoint of segment {@code index} of the subscription {@code name}. */
  static String checkpointName(String name, int index) {
    return name + "#" + index;
  }

  /** A copy with some settings changed, validated like any other. */
  private SubscriptionOptions edit(Consumer<Draft> change) {
    Draft draft = new Draft(this);
    change.accept(draft);
    return new SubscriptionOptions(
        draft.name,
        draft.filter,
        draft.startFrom,
        draft.batchSize,
        draft.pollInterval,
        draft.standbyInterval,
        draft.retryPolicy,
        draft.failurePolicy,
        draft.segments,
        draft.batchInterval);
  }

  private static final class Draft {
    String name;
    EventFilter filter;
    Position startFrom;
    int batchSize;
    Duration pollInterval;
    Duration standbyInterval;
    RetryPolicy retryPolicy;
    FailurePolicy failurePolicy;
    int segments;
    Duration batchInterval;

    Draft(SubscriptionOptions options) {
      name = options.name;
      filter = options.filter;
      startFrom = options.startFrom;
      batchSize = options.batchSize;
      pollInterval = options.pollInterval;
      standbyInterval = options.standbyInterval;
      retryPolicy = options.retryPolicy;
      failurePolicy = options.failurePolicy;
      segments = options.segments;
      batchInterval = options.batchInterval;
    }
  }
}
