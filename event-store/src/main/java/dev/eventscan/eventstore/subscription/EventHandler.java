package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.stream.RecordedEvent;

/**
 * Handles events at least once: after a crash, events since the last checkpoint are delivered
 * again, so side effects must be idempotent.
 */
@FunctionalInterface
public interface EventHandler {
  void handle(RecordedEvent event) throws Exception;
}
