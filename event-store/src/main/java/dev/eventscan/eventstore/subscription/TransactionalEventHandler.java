package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;
import java.util.List;
import java.util.Objects;

/**
 * Handles events inside the transaction that also saves the subscription's checkpoint: writes made
 * through {@code transaction} commit together with it or not at all, so a read model in the same
 * database sees each event exactly once. Do not commit or close the connection.
 *
 * <p>Such a transaction holds a transaction id from its first write to its commit, and every global
 * reader (live feeds, other subscriptions) waits behind it. So the subscription sizes its batches
 * to keep each transaction short (about 10 ms of work), and a handler that can write a batch in a
 * few statements should override {@link #handleBatch}. One that only writes can leave its
 * statements to the subscription ({@link #ofWrites}): sent with the checkpoint's move and the
 * COMMIT, they hold the transaction id for no round trip at all.
 */
@FunctionalInterface
public interface TransactionalEventHandler {
  void handle(RecordedEvent event, Connection transaction) throws Exception;

  /**
   * Handles consecutive events in one transaction; by default one at a time with {@link #handle}.
   * Override it to aggregate first and write once per batch. If it throws, nothing of the batch
   * commits and its events are handled again one at a time, each in its own transaction, so a
   * failing event is retried (and parked) alone.
   */
  default void handleBatch(List<RecordedEvent> events, Connection transaction) throws Exception {
    for (RecordedEvent event : events) {
      handle(event, transaction);
    }
  }

  /** Handles consecutive events in one transaction; must not commit. */
  @FunctionalInterface
  interface BatchHandler {
    void handle(List<RecordedEvent> events, Connection transaction) throws Exception;
  }

  /** A handler that takes every event as part of a batch: a single event is a batch of one. */
  static TransactionalEventHandler ofBatches(BatchHandler batches) {
    Objects.requireNonNull(batches, "batches");
    return new TransactionalEventHandler() {
      @Override
      public void handle(RecordedEvent event, Connection transaction) throws Exception {
        batches.handle(List.of(event), transaction);
      }

      @Override
      public void handleBatch(List<RecordedEvent> events, Connection transaction) throws Exception {
        batches.handle(events, transaction);
      }
    };
  }

  /** What a batch writes, read through {@code transaction} if need be, but not written to it. */
  @FunctionalInterface
  interface BatchWrites {
    SqlWrites writes(List<RecordedEvent> events, Connection transaction) throws Exception;
  }

  /**
   * A handler that returns its writes instead of running them. A subscription sends a batch's
   * writes in one round trip with the statement that moves its checkpoint and the COMMIT, so the
   * transaction takes its id, and holds back every global reader, only while PostgreSQL runs them:
   * not across a round trip, nor while this JVM's thread waits for a core. Reads through the
   * connection take no transaction id. Wherever a batch cannot go with its checkpoint (an event
   * retried alone, a parked one settled), the writes run at once, as {@link #handleBatch} would. If
   * they fail, the batch's events are handled again one at a time, each failing or not on its own,
   * as with any handler.
   */
  static TransactionalEventHandler ofWrites(BatchWrites writes) {
    return new WritingHandler(Objects.requireNonNull(writes, "writes"));
  }
}
