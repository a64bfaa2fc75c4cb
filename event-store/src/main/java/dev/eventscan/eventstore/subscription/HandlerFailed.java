package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStoreStorageException;

/** A handler failed on an event, not the database under it: the event is retried, then parked. */
final class HandlerFailed extends Exception {
  private HandlerFailed(Throwable cause) {
    super(cause);
  }

  /**
   * A handler's exception as a failure of that event, unless the database or a connection failed
   * underneath it: then the subscription pauses and retries, and nothing is parked.
   */
  static HandlerFailed of(Exception e) {
    if (StorageFailures.isTransient(e)) {
      throw new EventStoreStorageException("a handler's database work failed: " + e, e);
    }
    return new HandlerFailed(e);
  }
}
