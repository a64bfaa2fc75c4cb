package dev.eventscan.eventstore;

/** PostgreSQL could not be reached or failed in a way that is not the caller's input. */
public class EventStoreStorageException extends EventStoreException {
  public EventStoreStorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
