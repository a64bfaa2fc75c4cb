package dev.eventscan.eventstore.aggregate;

import dev.eventscan.eventstore.stream.EventMetadata;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Who asked for a change. The events a command produces carry its id as their causation id, and its
 * correlation id (or, when it starts a conversation, its own id) as their correlation id.
 */
public record CommandMetadata(
    String commandId, String correlationId, Map<String, String> attributes) {
  public CommandMetadata {
    Objects.requireNonNull(commandId, "commandId");
    attributes = Map.copyOf(Objects.requireNonNullElse(attributes, Map.of()));
  }

  /** A command that starts a new conversation. */
  public static CommandMetadata newCommand() {
    return new CommandMetadata(UUID.randomUUID().toString(), null, Map.of());
  }

  /** A command caused by an earlier message of the same conversation. */
  public static CommandMetadata causedBy(String correlationId) {
    return new CommandMetadata(UUID.randomUUID().toString(), correlationId, Map.of());
  }

  EventMetadata eventMetadata() {
    return new EventMetadata(
        correlationId == null ? commandId : correlationId, commandId, attributes);
  }
}
