package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.EventStoreException;

/** The stream was soft-deleted: it can no longer be appended to or read as a stream. */
public class StreamDeletedException extends EventStoreException {
  private final String streamId;

  public StreamDeletedException(String streamId) {
    super("stream '" + streamId + "' is deleted");
    this.streamId = streamId;
  }

  public String streamId() {
    return streamId;
  }
}
