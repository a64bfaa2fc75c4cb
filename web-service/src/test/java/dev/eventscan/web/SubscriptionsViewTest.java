package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.subscription.SubscriptionState;
import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SubscriptionsViewTest {
  private static SubscriptionStatus checkpoint(String name, String owner, long lag) {
    return new SubscriptionStatus(
        name,
        new Position(7, 42),
        SubscriptionState.RUNNING,
        Optional.ofNullable(owner),
        3,
        Optional.empty(),
        Optional.of("boom"),
        lag);
  }

  @Test
  void segment_checkpoints_are_grouped_under_their_subscription_in_index_order() {
    List<Map<String, Object>> view =
        SubscriptionsView.of(
            List.of(
                checkpoint("plain", "1@a/x", 0),
                checkpoint("split#10", "2@b/y", 5),
                checkpoint("split#2", "1@a/x", 9),
                checkpoint("split#0", null, 1)),
            true);

    assertThat(view).extracting(s -> s.get("name")).containsExactly("plain", "split");
    Map<String, Object> split = view.get(1);
    assertThat(split).containsEntry("segmentCount", 3).containsEntry("maxLag", 9L);
    assertThat(split.get("owners")).isEqualTo(List.of("1@a/x", "2@b/y"));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> segments = (List<Map<String, Object>>) split.get("segments");
    assertThat(segments).extracting(s -> s.get("index")).containsExactly(0, 2, 10);
    assertThat(segments.get(1))
        .containsEntry("checkpoint", "split#2")
        .containsEntry("state", "running")
        .containsEntry("position", new Position(7, 42).toString())
        .containsEntry("owner", "1@a/x")
        .containsEntry("lastError", "boom");
  }

  @Test
  void without_internals_no_owner_or_error_is_shown() {
    Map<String, Object> plain =
        SubscriptionsView.of(List.of(checkpoint("plain", "1@a/x", 0)), false).get(0);
    assertThat(plain).doesNotContainKey("owners");
    @SuppressWarnings("unchecked")
    Map<String, Object> segment = ((List<Map<String, Object>>) plain.get("segments")).get(0);
    assertThat(segment).doesNotContainKeys("owner", "lastError").containsEntry("index", 0);
  }
}
