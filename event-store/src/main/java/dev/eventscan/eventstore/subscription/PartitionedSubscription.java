package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.global.StreamSegment;
import dev.eventscan.eventstore.position.Position;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A subscription split into segments on this node: one {@link SegmentGroup} runs the segments that
 * {@link SegmentMembership} assigns to this node, taking each one's lock while it is assigned.
 * Positions are the segments' stored checkpoints, so they are true whichever node owns a segment.
 */
final class PartitionedSubscription implements Subscription {
  private static final Duration POLL = Duration.ofMillis(20);

  private final String name;
  private final SubscriptionTables tables;
  private final SegmentMembership membership;
  private final SegmentGroup segments;
  private final Supplier<Position> head;
  private final Runnable whenStopped;
  private CompletableFuture<Position> caughtUp;
  private volatile boolean stopped;

  PartitionedSubscription(
      String name,
      SubscriptionTables tables,
      SegmentMembership membership,
      SegmentGroup segments,
      Supplier<Position> head,
      Runnable whenStopped) {
    this.name = name;
    this.tables = tables;
    this.membership = membership;
    this.segments = segments;
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
    List<SubscriptionState> states = segments.states();
    for (SubscriptionState state : BY_PRIORITY) {
      if (states.contains(state)) {
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
    return tables.lowestCheckpoint(name, segments.states().size());
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
    int count = segments.states().size();
    return segments.state(StreamSegment.indexOf(streamId, count)) == SubscriptionState.RUNNING;
  }

  /** The segment whose checkpoint is named {@code name}, if it is one of this subscription's. */
  Optional<SegmentGroup.Segment> segmentNamed(String checkpointName) {
    return segments.segmentNamed(checkpointName);
  }

  @Override
  public void stop() {
    stopped = true;
    membership.stop(); // leave first: the others take the segments as soon as they are let go
    segments.stop();
    whenStopped.run();
  }
}
