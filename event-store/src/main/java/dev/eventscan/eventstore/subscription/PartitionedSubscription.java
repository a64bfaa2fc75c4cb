package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.position.Position;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A subscription split into segments on this node: one worker per segment, each of which takes its
 * segment's lock only while {@link SegmentMembership} assigns the segment to this node. Positions
 * are the segments' stored checkpoints, so they are true whichever node owns a segment.
 */
final class PartitionedSubscription implements Subscription {
  private static final Duration POLL = Duration.ofMillis(20);

  private final String name;
  private final SubscriptionTables tables;
  private final SegmentMembership membership;
  private final List<SubscriptionWorker> segments;
  private final Supplier<Position> head;
  private final Runnable whenStopped;
  private CompletableFuture<Position> caughtUp;
  private volatile boolean stopped;

  PartitionedSubscription(
      String name,
      SubscriptionTables tables,
      SegmentMembership membership,
      List<SubscriptionWorker> segments,
      Supplier<Position> head,
      Runnable whenStopped) {
    this.name = name;
    this.tables = tables;
    this.membership = membership;
    this.segments = List.copyOf(segments);
    this.head = head;
    this.whenStopped = whenStopped;
  }

  @Override
  public String name() {
    return name;
  }

  /** What matters most among its segments here: failed, else running, reconnecting, standby. */
  @Override
  public SubscriptionState state() {
    for (SubscriptionState state : BY_PRIORITY) {
      if (segments.stream().anyMatch(segment -> segment.state() == state)) {
        return state;
      }
    }
    return SubscriptionState.STOPPED;
  }

  static final List<SubscriptionState> BY_PRIORITY =
      List.of(
          SubscriptionState.FAILED,
          SubscriptionState.RUNNING,
          SubscriptionState.RECONNECTING,
          SubscriptionState.STANDBY);

  /** The lowest checkpoint of all segments: every event before it is handled, on some node. */
  @Override
  public Position position() {
    return tables.lowestCheckpoint(name, segments.size());
  }

  @Override
  public boolean awaitPosition(Position target, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (position().compareTo(target) < 0) {
      if (System.nanoTime() > deadline || stopped) {
        return false;
      }
      Thread.sleep(POLL.toMillis());
    }
    return true;
  }

  /** Completes when every segment, on whichever node, has reached the head as of the first call. */
  @Override
  public synchronized CompletableFuture<Position> caughtUp() {
    if (caughtUp == null) {
      Position target = head.get();
      caughtUp =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  while (!awaitPosition(target, Duration.ofMinutes(1))) {
                    if (stopped) {
                      throw new IllegalStateException("subscription " + name + " stopped");
                    }
                  }
                  return target;
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  throw new IllegalStateException(e);
                }
              });
    }
    return caughtUp;
  }

  /** True if this node owns the segment of {@code streamId} and is running it. */
  @Override
  public boolean handles(String streamId) {
    return segments.get(StreamSegment.indexOf(streamId, segments.size())).state()
        == SubscriptionState.RUNNING;
  }

  @Override
  public void stop() {
    stopped = true;
    membership.stop(); // leave first: the others take the segments as soon as they are let go
    segments.parallelStream().forEach(SubscriptionWorker::stop);
    whenStopped.run();
  }
}
