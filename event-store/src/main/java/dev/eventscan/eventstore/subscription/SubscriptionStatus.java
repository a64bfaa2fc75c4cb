package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.position.Position;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

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
    long lag) {

  /** The segments of one subscription as one: lowest position, all owners, summed counts. */
  static SubscriptionStatus ofSegments(String name, List<SubscriptionStatus> segments) {
    Position lowest =
        segments.stream().map(SubscriptionStatus::position).min(Position::compareTo).orElseThrow();
    SubscriptionState state = SubscriptionState.STOPPED;
    for (SubscriptionState candidate : PartitionedSubscription.BY_PRIORITY) {
      if (segments.stream().anyMatch(s -> s.state() == candidate)) {
        state = candidate;
        break;
      }
    }
    String owners =
        segments.stream()
            .flatMap(s -> s.owner().stream())
            .distinct()
            .sorted()
            .collect(Collectors.joining(", "));
    return new SubscriptionStatus(
        name,
        lowest,
        state,
        owners.isEmpty() ? Optional.empty() : Optional.of(owners),
        segments.stream().mapToLong(SubscriptionStatus::eventsHandled).sum(),
        segments.stream().flatMap(s -> s.lastHandledAt().stream()).max(Instant::compareTo),
        segments.stream().flatMap(s -> s.lastError().stream()).findFirst(),
        segments.stream().mapToLong(SubscriptionStatus::lag).max().orElse(0));
  }
}
