package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStoreException;

/** No parked failure has this id, or it is not open any more. */
public class UnknownFailureException extends EventStoreException {
  private final long failureId;

  public UnknownFailureException(long failureId, String why) {
    super("parked failure " + failureId + " " + why);
    this.failureId = failureId;
  }

  public long failureId() {
    return failureId;
  }
}
