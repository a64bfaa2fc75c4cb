package dev.eventscan.eventstore.serialization;

import dev.eventscan.eventstore.EventStoreException;

/** An event or its metadata could not be turned into JSON, or back. */
public class EventSerializationException extends EventStoreException {
  public EventSerializationException(String message) {
    super(message);
  }

  public EventSerializationException(String message, Throwable cause) {
    super(message, cause);
  }
}
