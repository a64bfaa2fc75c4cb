package dev.eventscan.eventstore.stream;

import dev.eventscan.eventstore.InvalidInputException;
import java.util.Map;
import java.util.Objects;

/**
 * Metadata stored beside an event: who caused it and which conversation it belongs to, plus free
 * string fields. Stored as one flat JSON object.
 *
 * @param correlationId the id shared by everything one request set off; may be null
 * @param causationId the id of the message that directly caused this event; may be null
 * @param attributes free fields; keys {@code correlationId} and {@code causationId} are reserved
 */
public record EventMetadata(
    String correlationId, String causationId, Map<String, String> attributes) {
  public static final EventMetadata EMPTY = new EventMetadata(null, null, Map.of());

  public EventMetadata {
    attributes = Map.copyOf(Objects.requireNonNullElse(attributes, Map.of()));
    if (hasNul(correlationId)
        || hasNul(causationId)
        || attributes.entrySet().stream()
            .anyMatch(a -> hasNul(a.getKey()) || hasNul(a.getValue()))) {
      throw new InvalidInputException(
          "metadata must not contain the NUL character, which PostgreSQL cannot store");
    }
    if (attributes.containsKey("correlationId") || attributes.containsKey("causationId")) {
      throw new InvalidInputException(
          "metadata attributes must not use the reserved keys correlationId or causationId");
    }
  }

  private static boolean hasNul(String text) {
    return text != null && text.indexOf('\u0000') >= 0;
  }

  public static EventMetadata correlated(String correlationId, String causationId) {
    return new EventMetadata(correlationId, causationId, Map.of());
  }

  public EventMetadata withAttribute(String key, String value) {
    var copy = new java.util.HashMap<>(attributes);
    copy.put(key, value);
    return new EventMetadata(correlationId, causationId, copy);
  }
}
