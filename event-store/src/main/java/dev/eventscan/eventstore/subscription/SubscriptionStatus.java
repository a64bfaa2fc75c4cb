package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.position.Position;
import java.time.Instant;
import java.util.Optional;

/**
 * A named subscription as stored, for monitoring.
 *
 * @param lag how many events it is behind the head of the log: an estimate from event ids (ids of
 *     rolled-back appends and events outside its filter count too)
 */
public record SubscriptionStatus(
    String name,
    Position position,
    SubscriptionState state,
    Optional<String> owner,
    long eventsHandled,
    Optional<Instant> lastHandledAt,
    Optional<String> lastError,
    long lag) {}
