package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.position.Position;
import java.time.Instant;
import java.util.UUID;

/** An event a subscription's handler failed on after every retry. */
public record ParkedFailure(
    long id,
    String subscription,
    Position position,
    UUID eventId,
    String streamId,
    String eventType,
    String errorMessage,
    String errorStack,
    int attempts,
    Instant firstFailedAt,
    Instant lastFailedAt,
    String status) {
  public static final String OPEN = "open";
  public static final String RESOLVED = "resolved";
  public static final String RETRIED = "retried";

  /** A replay or rebuild went back over the event, so it was delivered again that way. */
  public static final String SUPERSEDED = "superseded";
}
