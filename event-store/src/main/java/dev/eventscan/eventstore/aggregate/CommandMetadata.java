package dev.eventscan.eventstore.aggregate;

import dev.eventscan.eventstore.stream.EventMetadata;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Who asked for a change. The events a command produces carry its id as their causation id, and its
 * correlation id (or, when it starts a conversation, its own id) as their correlation id.
 *
 * @param deterministicEventIds derive each event's id from (stream, command id, index) instead of a
 *     random one, so a command sent again with the same id appends nothing: see {@link
 *     #withDeterministicEventIds()}
 */
public record CommandMetadata(
    String commandId,
    String correlationId,
    Map<String, String> attributes,
    boolean deterministicEventIds) {
  public CommandMetadata {
    Objects.requireNonNull(commandId, "commandId");
    attributes = Map.copyOf(Objects.requireNonNullElse(attributes, Map.of()));
  }

  /** A command whose events get random ids. */
  public CommandMetadata(String commandId, String correlationId, Map<String, String> attributes) {
    this(commandId, correlationId, attributes, false);
  }

  /**
   * The same command, with event ids derived from (stream, command id, index). Use it when the
   * command id is stable across re-sends (chosen by the client, or derived from the message that
   * caused the command): if an earlier send was appended, even one whose outcome the sender never
   * learned, {@link AggregateRepository#update} appends nothing and returns the aggregate as it is.
   */
  public CommandMetadata withDeterministicEventIds() {
    return new CommandMetadata(commandId, correlationId, attributes, true);
  }

  /** The id of the {@code index}th event this command appends to {@code streamId}. */
  UUID eventId(String streamId, int index) {
    return UUID.nameUUIDFromBytes(
        (streamId + "\n" + commandId + "\n" + index).getBytes(StandardCharsets.UTF_8));
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
