package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.EventStoreException;

/**
 * A retry or resolve of a parked failure that is no longer open: someone else retried or resolved
 * it first (a double click, two operators), or a replay superseded it. Nothing was delivered.
 */
public class FailureAlreadySettledException extends EventStoreException {
  private final long failureId;
  private final String status;

  public FailureAlreadySettledException(long failureId, String status) {
    super("parked failure " + failureId + " is already " + status + "; nothing was done");
    this.failureId = failureId;
    this.status = status;
  }

  public long failureId() {
    return failureId;
  }

  /** What it is now: retried, resolved or superseded. */
  public String status() {
    return status;
  }
}
