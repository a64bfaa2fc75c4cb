package dev.eventscan.eventstore.statistics;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.projection.ProjectionStatus;
import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import java.time.Duration;
import java.util.List;

/**
 * The monitoring overview. Counts come from the statistics projection's counters (exact up to
 * {@code countedUpTo}); {@code estimatedEvents} is PostgreSQL's planner estimate of the table.
 */
public record Overview(
    long totalEvents,
    long streams,
    long estimatedEvents,
    Position head,
    Position countedUpTo,
    Duration barrierAge,
    List<Count> eventTypes,
    List<ProjectionStatus> projections,
    List<SubscriptionStatus> subscriptions,
    long openFailures) {

  /** A name and how many events it has. */
  public record Count(String name, long count) {}
}
