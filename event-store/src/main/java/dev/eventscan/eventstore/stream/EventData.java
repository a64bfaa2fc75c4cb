package dev.eventscan.eventstore.stream;

import java.util.Objects;
import java.util.UUID;

/**
 * An event to append. The id makes retries idempotent: appending the same ids again returns the
 * first result instead of writing twice, so keep the ids when retrying after a timeout.
 *
 * @param data the event's JSON text
 */
public record EventData(UUID eventId, String type, String data, EventMetadata metadata) {
  public EventData {
    metadata = Objects.requireNonNullElse(metadata, EventMetadata.EMPTY);
  }

  /** An event with a fresh random id and no metadata. */
  public static EventData of(String type, String data) {
    return new EventData(UUID.randomUUID(), type, data, EventMetadata.EMPTY);
  }

  public static EventData of(String type, String data, EventMetadata metadata) {
    return new EventData(UUID.randomUUID(), type, data, metadata);
  }
}
