package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.EventStoreException;
import java.util.UUID;

/**
 * An event id was already appended, and this append is not an exact retry of that one (another
 * stream, other ids in the batch, or another expected version). Use fresh ids for new events.
 */
public class DuplicateEventIdException extends EventStoreException {
  private final String streamId;
  private final UUID eventId;

  public DuplicateEventIdException(String streamId, UUID eventId) {
    super(
        "event id "
            + (eventId == null ? "in the batch" : eventId)
            + " was already appended by a different append than this one to stream '"
            + streamId
            + "'; a retry must repeat the same stream, ids and expected version");
    this.streamId = streamId;
    this.eventId = eventId;
  }

  public String streamId() {
    return streamId;
  }

  /** The reused id, when PostgreSQL reported which one. */
  public UUID eventId() {
    return eventId;
  }
}
