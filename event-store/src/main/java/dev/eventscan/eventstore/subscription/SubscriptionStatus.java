package dev.eventscan.eventstore.subscription;

import dev.eventscan.eventstore.position.Position;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A subscription's checkpoint as stored, for monitoring: a plain subscription's only one, or one
 * segment's of a partitioned subscription (see {@link SubscriptionOptions#segments(int)}).
 *
 * @param name the checkpoint's name: the subscription's own, or {@code <subscription>#<segment>}
 * @param subscription the name of the subscription this checkpoint belongs to
 * @param segment the segment's index, from 0 to {@code segmentCount - 1}; 0 for a plain
 *     subscription, and for the sum of all segments that {@link Subscriptions#status} gives
 * @param segmentCount how many segments the subscription is split into; 1 for a plain one
 * @param owner the node that last took the checkpoint ({@link Subscriptions#node()} there); a node
 *     that died stays named until another takes the checkpoint over
 * @param lag how many events it is behind the head of the log: an estimate from event ids (ids of
 *     rolled-back appends and events outside its filter count too)
 */
public record SubscriptionStatus(
    String name,
    String subscription,
    int segment,
    int segmentCount,
    Position position,
    SubscriptionState state,
    Optional<String> owner,
    long eventsHandled,
    Optional<Instant> lastHandledAt,
    Optional<String> lastError,
    long lag) {

  /** Whether this is one segment of a subscription split into several. */
  public boolean partitioned() {
    return segmentCount > 1;
  }

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
        name,
        0,
        segments.get(0).segmentCount(),
        lowest,
        state,
        owners.isEmpty() ? Optional.empty() : Optional.of(owners),
        segments.stream().mapToLong(SubscriptionStatus::eventsHandled).sum(),
        segments.stream().flatMap(s -> s.lastHandledAt().stream()).max(Instant::compareTo),
        segments.stream().flatMap(s -> s.lastError().stream()).findFirst(),
        segments.stream().mapToLong(SubscriptionStatus::lag).max().orElse(0));
  }
}
