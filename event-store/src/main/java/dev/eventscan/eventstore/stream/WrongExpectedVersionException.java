package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.EventStoreException;

/** The stream was not at the version the writer expected: reload the stream and decide again. */
public class WrongExpectedVersionException extends EventStoreException {
  private final String streamId;
  private final ExpectedVersion expectedVersion;
  private final long actualVersion;

  public WrongExpectedVersionException(
      String streamId, ExpectedVersion expectedVersion, long actualVersion) {
    super(
        "stream '"
            + streamId
            + "' expected "
            + expectedVersion
            + " but is at version "
            + actualVersion
            + (actualVersion == 0 ? " (does not exist)" : "")
            + "; reload it and retry");
    this.streamId = streamId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }

  public String streamId() {
    return streamId;
  }

  public ExpectedVersion expectedVersion() {
    return expectedVersion;
  }

  /** The stream's version when the append was refused; 0 if it does not exist. */
  public long actualVersion() {
    return actualVersion;
  }
}
