package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.EventStoreException;

/** The stream was never written. */
public class StreamNotFoundException extends EventStoreException {
  private final String streamId;

  public StreamNotFoundException(String streamId) {
    super("stream '" + streamId + "' does not exist");
    this.streamId = streamId;
  }

  public String streamId() {
    return streamId;
  }
}
