package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.position.Position;
import java.time.Instant;
import java.util.UUID;

/**
 * An event as stored. {@code data} and {@code metadataJson} are the stored JSON text; the
 * serializer turns them into objects when and if the reader needs them.
 */
public record RecordedEvent(
    Position position,
    UUID eventId,
    String streamId,
    long streamVersion,
    String type,
    String data,
    String metadataJson,
    Instant recordedAt) {

  /** The metadata, parsed from its JSON on each call. */
  public EventMetadata metadata() {
    return MetadataJson.parse(metadataJson);
  }

  /** The part of the stream id before the first {@code -}. */
  public String category() {
    return StreamIds.category(streamId);
  }
}
