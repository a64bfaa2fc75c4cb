package dev.eventscan.eventstore.projection;

import dev.eventscan.eventstore.EventStoreException;
import dev.eventscan.eventstore.stream.RecordedEvent;

/** An inline projection threw: the append it ran in was rolled back and wrote nothing. */
public class InlineProjectionFailedException extends EventStoreException {
  private final String projection;

  public InlineProjectionFailedException(String projection, RecordedEvent event, Throwable cause) {
    super(
        "inline projection '"
            + projection
            + "' failed on "
            + event.type()
            + " in stream '"
            + event.streamId()
            + "', so the append was rolled back: "
            + cause.getMessage(),
        cause);
    this.projection = projection;
  }

  public String projection() {
    return projection;
  }
}
