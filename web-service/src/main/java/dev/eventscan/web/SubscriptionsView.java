package dev.eventscan.web;

import dev.eventscan.eventstore.subscription.SubscriptionMember;
import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The subscriptions as an operator reads them: one entry per subscription with its segments under
 * it (a plain subscription is its own single segment) and, for a partitioned one, the live nodes
 * sharing them.
 */
final class SubscriptionsView {
  private SubscriptionsView() {}

  /**
   * @param members the live members of a partitioned subscription, by its name
   * @param internals whether to include owners and members (process ids and host names) and last
   *     errors
   */
  static List<Map<String, Object>> of(
      List<SubscriptionStatus> checkpoints,
      Function<String, List<SubscriptionMember>> members,
      boolean internals) {
    Map<String, List<SubscriptionStatus>> bySubscription = new LinkedHashMap<>();
    for (SubscriptionStatus checkpoint : checkpoints) {
      bySubscription
          .computeIfAbsent(checkpoint.subscription(), n -> new ArrayList<>())
          .add(checkpoint);
    }
    List<Map<String, Object>> subscriptions = new ArrayList<>();
    bySubscription.forEach(
        (name, segments) -> {
          segments.sort(Comparator.comparingInt(SubscriptionStatus::segment));
          Map<String, Object> subscription = new LinkedHashMap<>();
          subscription.put("name", name);
          subscription.put("segmentCount", segments.get(0).segmentCount());
          // Each segment's lag counts every event after its checkpoint: the largest says most.
          subscription.put(
              "maxLag", segments.stream().mapToLong(SubscriptionStatus::lag).max().orElse(0));
          if (internals) {
            subscription.put(
                "owners",
                segments.stream()
                    .map(s -> s.owner().orElse(null))
                    .filter(Objects::nonNull)
                    .distinct()
                    .toList());
            subscription.put(
                "members",
                segments.get(0).partitioned()
                    ? members.apply(name).stream().map(SubscriptionsView::member).toList()
                    : List.of());
          }
          subscription.put("segments", segments.stream().map(s -> segment(s, internals)).toList());
          subscriptions.add(subscription);
        });
    return subscriptions;
  }

  private static Map<String, Object> member(SubscriptionMember member) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("node", member.node());
    json.put("lastHeardAt", member.lastHeardAt().toString());
    return json;
  }

  private static Map<String, Object> segment(SubscriptionStatus checkpoint, boolean internals) {
    Map<String, Object> segment = new LinkedHashMap<>();
    segment.put("index", checkpoint.segment());
    segment.put("checkpoint", checkpoint.name());
    segment.put("state", checkpoint.state().storedName());
    segment.put("position", checkpoint.position().toString());
    segment.put("lag", checkpoint.lag());
    segment.put("eventsHandled", checkpoint.eventsHandled());
    segment.put("lastHandledAt", checkpoint.lastHandledAt().map(Object::toString).orElse(null));
    if (internals) {
      segment.put("owner", checkpoint.owner().orElse(null));
      segment.put("lastError", checkpoint.lastError().orElse(null));
    }
    return segment;
  }
}
