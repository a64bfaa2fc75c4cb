package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStoreStorageException;

/** A handler failed on an event, not the database under it: the event is retried, then parked. */
final class HandlerFailed extends Exception {
  private HandlerFailed(Throwable cause) {
    super(cause);
  }

  /**
   * A handler's exception as a failure of that event, unless the database or a connection failed
   * underneath it: then the subscription pauses and retries, and nothing is parked. An {@link
   * Error} from a handler (an assertion, a class that failed to load) is that event's failure too:
   * ending the worker's thread would stop its segments silently, and no other node would take them.
   * Only the JVM's own failures (out of memory, stack overflow) go on up.
   */
  static HandlerFailed of(Throwable e) {
    if (e instanceof VirtualMachineError fatal) {
      throw fatal;
    }
    if (StorageFailures.isTransient(e)) {
      throw new EventStoreStorageException("a handler's database work failed: " + e, e);
    }
    return new HandlerFailed(e);
  }
}
