package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.stream.RecordedEvent;
import java.sql.Connection;

/**
 * Handles events inside the transaction that also saves the subscription's checkpoint: writes made
 * through {@code transaction} commit together with it or not at all, so a read model in the same
 * database sees each event exactly once. Do not commit or close the connection.
 */
@FunctionalInterface
public interface TransactionalEventHandler {
  void handle(RecordedEvent event, Connection transaction) throws Exception;
}
