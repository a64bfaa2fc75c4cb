package dev.eventscan.eventstore.projection;

import dev.eventscan.eventstore.position.Position;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A projection as monitoring sees it.
 *
 * @param lag events behind the head of the log, estimated from event ids
 * @param rebuildProgress 0..1 while rebuilding (estimated from event ids), else empty
 */
public record ProjectionStatus(
    String name,
    ProjectionState state,
    Position position,
    long lag,
    Optional<Instant> lastProcessedAt,
    Optional<Instant> lastRebuildStartedAt,
    Optional<Duration> lastRebuildDuration,
    Optional<Double> rebuildProgress) {}
