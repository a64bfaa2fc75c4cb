package dev.eventscan.web;

import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The subscriptions as an operator reads them: one entry per subscription with its segments under
 * it. A partitioned subscription keeps one checkpoint per segment, named {@code <name>#<index>}; a
 * plain one is its own single segment.
 */
final class SubscriptionsView {
  private static final Pattern SEGMENT_CHECKPOINT = Pattern.compile("(.+)#(\\d+)");

  private SubscriptionsView() {}

  /**
   * @param internals whether to include owners (process ids and host names) and last errors
   */
  static List<Map<String, Object>> of(List<SubscriptionStatus> checkpoints, boolean internals) {
    Map<String, List<Map<String, Object>>> segmentsByName = new LinkedHashMap<>();
    for (SubscriptionStatus checkpoint : checkpoints) {
      Matcher segment = SEGMENT_CHECKPOINT.matcher(checkpoint.name());
      boolean partitioned = segment.matches();
      String name = partitioned ? segment.group(1) : checkpoint.name();
      int index = partitioned ? Integer.parseInt(segment.group(2)) : 0;
      segmentsByName
          .computeIfAbsent(name, n -> new ArrayList<>())
          .add(segment(checkpoint, index, internals));
    }
    List<Map<String, Object>> subscriptions = new ArrayList<>();
    segmentsByName.forEach(
        (name, segments) -> {
          segments.sort(java.util.Comparator.comparingInt(s -> (Integer) s.get("index")));
          Map<String, Object> subscription = new LinkedHashMap<>();
          subscription.put("name", name);
          subscription.put("segmentCount", segments.size());
          // Each segment's lag counts every event after its checkpoint: the largest says most.
          subscription.put(
              "maxLag", segments.stream().mapToLong(s -> (Long) s.get("lag")).max().orElse(0));
          if (internals) {
            subscription.put(
                "owners",
                segments.stream()
                    .map(s -> s.get("owner"))
                    .filter(o -> o != null)
                    .distinct()
                    .toList());
          }
          subscription.put("segments", segments);
          subscriptions.add(subscription);
        });
    return subscriptions;
  }

  private static Map<String, Object> segment(
      SubscriptionStatus checkpoint, int index, boolean internals) {
    Map<String, Object> segment = new LinkedHashMap<>();
    segment.put("index", index);
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
