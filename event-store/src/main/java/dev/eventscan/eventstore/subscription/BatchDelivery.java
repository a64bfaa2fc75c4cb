package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStoreException;
import dev.eventscan.eventstore.jdbc.Jdbc;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.SQLException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a page of events: in batches when the delivery can, otherwise event by event, each until
 * it succeeds or the retry policy gives up; then it is parked and, under {@link
 * FailurePolicy#PARK_AND_STOP}, the subscription stops.
 */
final class BatchDelivery {
  private static final Logger log = LoggerFactory.getLogger(BatchDelivery.class);

  /** Where the checkpoint is after a batch, and whether a parked event stops the subscription. */
  record Outcome(Position checkpoint, boolean stopForFailure) {}

  private final SubscriptionOptions options;
  private final Delivery delivery;
  private final CheckpointTransactions checkpoints;
  private final SubscriptionTables tables;
  private final StopSignal stop;

  BatchDelivery(
      SubscriptionOptions options,
      Delivery delivery,
      CheckpointTransactions checkpoints,
      SubscriptionTables tables,
      StopSignal stop) {
    this.options = options;
    this.delivery = delivery;
    this.checkpoints = checkpoints;
    this.tables = tables;
    this.stop = stop;
  }

  /**
   * Delivers {@code events}, waiting between a failing event's attempts (a worker's own thread).
   */
  Outcome deliver(List<RecordedEvent> events, Position checkpoint)
      throws SQLException, CheckpointMoved {
    Pass pass = deliverOnce(events, checkpoint, 0);
    while (pass.failedAttempts() > 0) {
      stop.pause(options.retryPolicy().delayAfter(pass.failedAttempts()));
      if (stop.raised()) {
        throw new CheckpointMoved(); // stop now; the event is delivered again after a restart
      }
      pass =
          deliverOnce(after(events, pass.checkpoint()), pass.checkpoint(), pass.failedAttempts());
    }
    return new Outcome(pass.checkpoint(), pass.stopForFailure());
  }

  /** The events after {@code checkpoint}, of events in global order. */
  static List<RecordedEvent> after(List<RecordedEvent> events, Position checkpoint) {
    int first = 0;
    while (first < events.size() && !events.get(first).position().isAfter(checkpoint)) {
      first++;
    }
    return events.subList(first, events.size());
  }

  /**
   * What one pass over a segment's events did without waiting between attempts: where its
   * checkpoint is, whether a parked event stops the segment, and how many attempts the event right
   * after the checkpoint has failed (0: none waits for another attempt).
   */
  record Pass(Position checkpoint, boolean stopForFailure, int failedAttempts) {}

  /**
   * Delivers in batches where the delivery can, otherwise event by event; but an event that fails
   * before its last attempt ends the pass instead of waiting for its next one: the caller tries
   * again from the returned checkpoint once {@code retryPolicy().delayAfter(failedAttempts)} has
   * passed, and may go on with other segments meanwhile (a {@link SegmentGroup} has one thread for
   * all of a node's segments). {@code attemptsBefore}: the first event's failed attempts in earlier
   * passes; such an event is tried alone.
   */
  Pass deliverOnce(List<RecordedEvent> events, Position checkpoint, int attemptsBefore)
      throws SQLException, CheckpointMoved {
    int batched = attemptsBefore > 0 ? 0 : delivery.deliverBatch(events, checkpoint);
    Position from = batched == 0 ? checkpoint : events.get(batched - 1).position();
    Position current = from;
    int handled = 0;
    int attempts = batched == 0 ? attemptsBefore : 0;
    for (RecordedEvent event : events.subList(batched, events.size())) {
      if (stop.raised()) {
        break;
      }
      Throwable failure = attempt(event, current);
      if (failure != null) {
        attempts++;
        if (attempts < options.retryPolicy().maxAttempts()) {
          log.debug(
              "Subscription {}: attempt {} on {} failed",
              options.name(),
              attempts,
              event.eventId());
          delivery.delivered(from, current, handled);
          return new Pass(current, false, attempts);
        }
        park(event, current, failure, attempts);
      }
      attempts = 0;
      handled++;
      current = event.position(); // delivered or parked: either way the checkpoint passes it
      if (failure != null && options.failurePolicy() == FailurePolicy.PARK_AND_STOP) {
        delivery.delivered(from, current, handled);
        return new Pass(current, true, 0);
      }
    }
    delivery.delivered(from, current, handled);
    return new Pass(current, false, 0);
  }

  /** One attempt: null if the handler succeeded, else its failure. */
  private Throwable attempt(RecordedEvent event, Position before)
      throws SQLException, CheckpointMoved {
    try {
      delivery.deliver(event, before);
      return null;
    } catch (HandlerFailed e) {
      return e.getCause();
    }
  }

  /**
   * Re-delivers a parked event once, holding the failure's row lock from the check that it is open
   * until it is marked retried: a second retry at the same time waits, then finds it settled. True
   * if the handler succeeded this time.
   */
  boolean redeliver(long failureId) {
    try {
      checkpoints.inOwnTransaction(
          c -> {
            ParkedFailure failure = tables.lockOpenFailure(c, failureId);
            delivery.redeliver(tables.event(c, failure), c);
            tables.settleFailure(c, failureId, ParkedFailure.RETRIED);
          });
      return true;
    } catch (EventStoreException refused) {
      throw refused; // unknown or already settled: nothing was delivered
    } catch (Exception e) {
      Jdbc.withConnection(
          tables.dataSource(),
          "record failed retry",
          c -> {
            tables.recordFailedRetry(c, failureId, e);
            return null;
          });
      return false;
    }
  }

  private void park(RecordedEvent event, Position before, Throwable failure, int attempts)
      throws SQLException, CheckpointMoved {
    log.warn(
        "Subscription {} parks event {} ({}) after {} attempts: {}",
        options.name(),
        event.eventId(),
        event.type(),
        attempts,
        failure.toString());
    try {
      checkpoints.run(
          c -> {
            tables.park(c, options.name(), event, failure, attempts);
            delivery.parked(c, event, before);
          });
    } catch (HandlerFailed impossible) {
      throw new IllegalStateException(impossible);
    }
  }
}
