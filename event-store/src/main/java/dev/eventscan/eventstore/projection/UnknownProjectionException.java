package dev.eventscan.eventstore.projection;

import dev.eventscan.eventstore.EventStoreException;

public class UnknownProjectionException extends EventStoreException {
  public UnknownProjectionException(String name) {
    super("no projection named '" + name + "' is registered");
  }
}
