package dev.eventscan.eventstore.aggregate;

import dev.eventscan.eventstore.EventStoreException;

/**
 * A decision's refusal: the command is not valid for the aggregate's state ("cannot pay a cancelled
 * order"). Throw it from a {@link Decision}; {@link AggregateRepository#update} never retries it
 * and appends nothing. Subclass it for refusals callers tell apart.
 */
public class CommandRejectedException extends EventStoreException {
  public CommandRejectedException(String message) {
    super(message);
  }
}
