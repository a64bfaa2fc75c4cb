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

  Outcome deliver(List<RecordedEvent> events, Position checkpoint)
      throws SQLException, CheckpointMoved {
    int batched = delivery.deliverBatch(events, checkpoint);
    if (batched == events.size()) {
      return new Outcome(events.get(events.size() - 1).position(), false);
    }
    Position from = batched == 0 ? checkpoint : events.get(batched - 1).position();
    Position current = from;
    int handled = 0;
    for (RecordedEvent event : events.subList(batched, events.size())) {
      if (stop.raised()) {
        break;
      }
      boolean delivered = deliverWithRetries(event, current);
      handled++;
      current = event.position(); // delivered or parked: either way the checkpoint passes it
      if (!delivered && options.failurePolicy() == FailurePolicy.PARK_AND_STOP) {
        delivery.delivered(from, current, handled);
        return new Outcome(current, true);
      }
    }
    delivery.delivered(from, current, handled);
    return new Outcome(current, false);
  }

  /** Returns whether the handler succeeded; false once the event is parked. */
  private boolean deliverWithRetries(RecordedEvent event, Position before)
      throws SQLException, CheckpointMoved {
    RetryPolicy retry = options.retryPolicy();
    for (int attempt = 1; ; attempt++) {
      Exception failure;
      try {
        delivery.deliver(event, before);
        return true;
      } catch (HandlerFailed e) {
        failure = (Exception) e.getCause();
      }
      if (stop.raised() && attempt < retry.maxAttempts()) {
        throw new CheckpointMoved(); // stop now; the event is delivered again after a restart
      }
      if (attempt >= retry.maxAttempts()) {
        park(event, before, failure, attempt);
        return false;
      }
      log.debug(
          "Subscription {}: attempt {} on {} failed", options.name(), attempt, event.eventId());
      stop.pause(retry.delayAfter(attempt));
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
