package dev.eventscan.eventstore.projection;

import dev.eventscan.eventstore.EventStoreException;

/** No projection of that name is registered with these {@code Projections}. */
public class UnknownProjectionException extends EventStoreException {
  public UnknownProjectionException(String name) {
    super("no projection named '" + name + "' is registered");
  }
}
