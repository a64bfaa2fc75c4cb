package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.subscription.SubscriptionMember;
import dev.eventscan.eventstore.subscription.SubscriptionState;
import dev.eventscan.eventstore.subscription.SubscriptionStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SubscriptionsViewTest {
  private static final Instant HEARD = Instant.parse("2026-11-30T18:00:00Z");
  private static final Function<String, List<SubscriptionMember>> MEMBERS =
      name ->
          List.of(new SubscriptionMember("1@a/x", HEARD), new SubscriptionMember("2@b/y", HEARD));

  private static SubscriptionStatus plain(String name, String owner) {
    return status(name, name, 0, 1, owner, 0);
  }

  /** A segment's checkpoint; its name is deliberately not what the view groups by. */
  private static SubscriptionStatus segment(
      String subscription, int index, String owner, long lag) {
    return status("cp-" + index, subscription, index, 16, owner, lag);
  }

  private static SubscriptionStatus status(
      String name, String subscription, int index, int count, String owner, long lag) {
    return new SubscriptionStatus(
        name,
        subscription,
        index,
        count,
        new Position(7, 42),
        SubscriptionState.RUNNING,
        Optional.ofNullable(owner),
        3,
        Optional.empty(),
        Optional.of("boom"),
        lag);
  }

  @Test
  void segments_are_grouped_under_their_subscription_in_index_order_with_its_members() {
    List<Map<String, Object>> view =
        SubscriptionsView.of(
            List.of(
                plain("plain#3", "1@a/x"),
                segment("split", 10, "2@b/y", 5),
                segment("split", 2, "1@a/x", 9),
                segment("split", 0, null, 1)),
            MEMBERS,
            true);

    assertThat(view).extracting(s -> s.get("name")).containsExactly("plain#3", "split");
    Map<String, Object> split = view.get(1);
    assertThat(split)
        .as("the declared count, not the rows there are")
        .containsEntry("segmentCount", 16)
        .containsEntry("maxLag", 9L);
    assertThat(split.get("owners")).isEqualTo(List.of("1@a/x", "2@b/y"));
    assertThat(split.get("members"))
        .isEqualTo(
            List.of(
                Map.of("node", "1@a/x", "lastHeardAt", HEARD.toString()),
                Map.of("node", "2@b/y", "lastHeardAt", HEARD.toString())));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> segments = (List<Map<String, Object>>) split.get("segments");
    assertThat(segments).extracting(s -> s.get("index")).containsExactly(0, 2, 10);
    assertThat(segments.get(1))
        .containsEntry("checkpoint", "cp-2")
        .containsEntry("state", "running")
        .containsEntry("position", new Position(7, 42).toString())
        .containsEntry("owner", "1@a/x")
        .containsEntry("lastError", "boom");
    assertThat(view.get(0))
        .as("a plain subscription, even with # in its name, is one segment without members")
        .containsEntry("segmentCount", 1)
        .containsEntry("members", List.of());
  }

  @Test
  void without_internals_no_owner_member_or_error_is_shown() {
    Map<String, Object> plain =
        SubscriptionsView.of(List.of(plain("plain", "1@a/x")), MEMBERS, false).get(0);
    assertThat(plain).doesNotContainKeys("owners", "members");
    @SuppressWarnings("unchecked")
    Map<String, Object> segment = ((List<Map<String, Object>>) plain.get("segments")).get(0);
    assertThat(segment).doesNotContainKeys("owner", "lastError").containsEntry("index", 0);
  }
}
