package dev.eventscan.eventstore.internal;

import dev.eventscan.eventstore.InvalidInputException;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.stream.StreamIds;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** Refuses bad input before anything reaches the database. */
final class AppendValidator {
  static final int MAX_TYPE_LENGTH = 200;

  /** One append is one transaction: beyond this, split it (or it holds the log back too long). */
  static final int MAX_EVENTS_PER_APPEND = 10_000;

  /** Metadata is for ids and a few attributes; payloads belong in the event's data. */
  static final int MAX_METADATA_CHARS = 16 * 1024;

  private final int maxEventDataBytes;

  AppendValidator(int maxEventDataBytes) {
    this.maxEventDataBytes = maxEventDataBytes;
  }

  void validate(String streamId, ExpectedVersion expectedVersion, List<EventData> events) {
    StreamIds.requireValid(streamId);
    if (expectedVersion == null) {
      throw new InvalidInputException("expected version must not be null");
    }
    if (events == null || events.isEmpty()) {
      throw new InvalidInputException("an append needs at least one event");
    }
    if (events.size() > MAX_EVENTS_PER_APPEND) {
      throw new InvalidInputException(
          "an append may hold at most "
              + MAX_EVENTS_PER_APPEND
              + " events, got "
              + events.size()
              + "; split it into several appends");
    }
    Set<UUID> ids = new HashSet<>();
    for (int i = 0; i < events.size(); i++) {
      EventData event = events.get(i);
      String which = "event " + i + " of stream '" + streamId + "': ";
      if (event == null) {
        throw new InvalidInputException(which + "must not be null");
      }
      if (event.eventId() == null) {
        throw new InvalidInputException(which + "event id must not be null");
      }
      if (!ids.add(event.eventId())) {
        throw new InvalidInputException(which + "event id " + event.eventId() + " appears twice");
      }
      validateType(which, event.type());
      if (event.data() == null) {
        throw new InvalidInputException(which + "data must not be null (use \"{}\")");
      }
      if (utf8Length(event.data()) > maxEventDataBytes) {
        throw new InvalidInputException(
            which + "data is larger than the limit of " + maxEventDataBytes + " bytes");
      }
      if (event.data().indexOf('\u0000') >= 0 || event.data().contains("\\u0000")) {
        throw new InvalidInputException(
            which + "data must not contain the NUL character, which PostgreSQL cannot store");
      }
      if (metadataLength(event.metadata()) > MAX_METADATA_CHARS) {
        throw new InvalidInputException(
            which + "metadata is larger than the limit of " + MAX_METADATA_CHARS + " characters");
      }
    }
  }

  private static void validateType(String which, String type) {
    if (type == null || type.isBlank()) {
      throw new InvalidInputException(which + "type must not be null or blank");
    }
    if (type.startsWith("$")) {
      throw new InvalidInputException(which + "types starting with $ are reserved for the store");
    }
    if (type.length() > MAX_TYPE_LENGTH) {
      throw new InvalidInputException(
          which + "type must be at most " + MAX_TYPE_LENGTH + " characters");
    }
    for (int i = 0; i < type.length(); i++) {
      if (Character.isISOControl(type.charAt(i))) {
        throw new InvalidInputException(which + "type must not contain control characters");
      }
    }
  }

  private static int metadataLength(EventMetadata metadata) {
    int length = length(metadata.correlationId()) + length(metadata.causationId());
    for (var attribute : metadata.attributes().entrySet()) {
      length += attribute.getKey().length() + length(attribute.getValue());
    }
    return length;
  }

  private static int length(String text) {
    return text == null ? 0 : text.length();
  }

  /** Exact only when it matters: most events are far below the limit even at 3 bytes a char. */
  private int utf8Length(String text) {
    if ((long) text.length() * 3 <= maxEventDataBytes) {
      return text.length();
    }
    return text.getBytes(StandardCharsets.UTF_8).length;
  }
}
