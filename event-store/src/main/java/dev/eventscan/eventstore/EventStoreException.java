package dev.eventscan.eventstore;

/** The root of every exception the event store throws; all are unchecked. */
public abstract class EventStoreException extends RuntimeException {
  protected EventStoreException(String message) {
    super(message);
  }

  protected EventStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
