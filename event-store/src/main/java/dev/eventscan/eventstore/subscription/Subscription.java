package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.position.Position;
import java.time.Duration;

/** A running named subscription; see {@link Subscriptions}. */
public interface Subscription extends AutoCloseable {
  String name();

  SubscriptionState state();

  /** The last position handled and checkpointed by this process. */
  Position position();

  /**
   * Waits until this subscription has checkpointed {@code position} or later; false on timeout.
   * Useful after an append to wait for a read model, and in tests.
   */
  boolean awaitPosition(Position position, Duration timeout) throws InterruptedException;

  /**
   * Completes with the checkpoint the first time this process has read everything there was
   * (catch-up done, now live); fails if the subscription stops before that.
   */
  java.util.concurrent.CompletableFuture<Position> caughtUp();

  /**
   * Stops handling: the batch in flight finishes and is checkpointed, the threads end and the
   * dedicated connection is closed. Idempotent.
   */
  void stop();

  /**
   * Whether this process handles the events of {@code streamId} now: for a plain subscription,
   * whether it runs here (holds the lock); for one with segments, whether this process owns the
   * stream's segment. Work that must happen on exactly one node per stream (a sweep, a timer) can
   * ask this.
   */
  default boolean handles(String streamId) {
    return state() == SubscriptionState.RUNNING;
  }

  @Override
  default void close() {
    stop();
  }
}
