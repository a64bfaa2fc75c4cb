package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.EventMetadata;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.subscription.RetryPolicy;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The console's reads over real HTTP on real PostgreSQL: streams, the log, failures, rates. */
@ExtendWith(PostgresExtension.class)
class ConsoleApiTest {
  private static final String TOKEN = "console-token-0123456789";
  private static RunningService app;
  private static RunningService secured;

  @BeforeAll
  static void start(TestDatabase database) throws Exception {
    app = new RunningService(database, Map.of());
    secured = new RunningService(database, Map.of("API_TOKEN", TOKEN));
  }

  @AfterAll
  static void stop() {
    secured.close();
    app.close();
  }

  private static List<String> ids(JsonNode array, String field) {
    List<String> ids = new ArrayList<>();
    array.forEach(node -> ids.add(node.get(field).asText()));
    return ids;
  }

  @Test
  void streams_are_listed_newest_first_by_prefix_and_category_in_pages() throws Exception {
    EventStore store = app.service.store();
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String id = "shelf-" + (i % 2 == 0 ? "a" : "b") + i;
      store.append(id, ExpectedVersion.noStream(), EventData.of("Stocked", "{}"));
      made.add(id);
    }
    JsonNode first = app.get("/api/streams?category=shelf&limit=2").json();
    assertThat(ids(first.get("streams"), "streamId")).containsExactly(made.get(4), made.get(3));
    assertThat(first.get("streams").get(0).get("version").asInt()).isEqualTo(1);
    String cursor = first.get("nextCursor").asText();
    JsonNode second = app.get("/api/streams?category=shelf&limit=2&cursor=" + cursor).json();
    assertThat(ids(second.get("streams"), "streamId")).containsExactly(made.get(2), made.get(1));
    JsonNode last =
        app.get("/api/streams?category=shelf&limit=2&cursor=" + second.get("nextCursor").asText())
            .json();
    assertThat(ids(last.get("streams"), "streamId")).containsExactly(made.get(0));
    assertThat(last.get("nextCursor").isNull()).isTrue();
    assertThat(ids(app.get("/api/streams?prefix=shelf-a").json().get("streams"), "streamId"))
        .containsExactly(made.get(4), made.get(2), made.get(0));

    for (String bad :
        List.of("?limit=0", "?limit=x", "?cursor=%25%25", "?cursor=bm9wZQ", "?prefix=%00")) {
      RunningService.Response refused = app.get("/api/streams" + bad);
      assertThat(refused.status()).as(bad).isEqualTo(400);
      assertThat(refused.errorMessage()).as(bad).isNotBlank();
    }
  }

  @Test
  void a_streams_events_carry_their_metadata_for_the_browser() throws Exception {
    app.service
        .store()
        .append(
            "crate-1",
            ExpectedVersion.noStream(),
            EventData.of(
                "Packed",
                "{\"items\":3}",
                new EventMetadata("corr-9", "cause-9", Map.of("user", "ada"))));
    JsonNode stream = app.get("/api/streams/crate-1").json();
    JsonNode event = stream.get("events").get(0);
    assertThat(event.get("data").get("items").asInt()).isEqualTo(3);
    assertThat(event.get("correlationId").asText()).isEqualTo("corr-9");
    assertThat(event.get("causationId").asText()).isEqualTo("cause-9");
    assertThat(event.get("metadata").get("user").asText()).isEqualTo("ada");
    assertThat(stream.get("info").get("createdAt").asText()).isNotBlank();
  }

  @Test
  void the_log_pages_back_and_forth_by_position_with_filters() throws Exception {
    EventStore store = app.service.store();
    for (int i = 1; i <= 5; i++) {
      store.append(
          "ledger-" + i,
          ExpectedVersion.noStream(),
          EventData.of(i % 2 == 0 ? "Even" : "Odd", "{}"));
    }
    // The log shows an event once no older transaction is still running (the barrier).
    RunningService.await(
        "the last ledger event readable",
        () -> {
          try {
            return app.get("/api/events?category=ledger&limit=1").body().contains("ledger-5");
          } catch (Exception e) {
            return false;
          }
        });
    JsonNode newest = app.get("/api/events?category=ledger&limit=2").json();
    assertThat(ids(newest.get("events"), "streamId")).containsExactly("ledger-5", "ledger-4");
    assertThat(newest.get("newer").isNull()).isTrue();
    String older = newest.get("older").asText();
    JsonNode page2 = app.get("/api/events?category=ledger&limit=2&before=" + older).json();
    assertThat(ids(page2.get("events"), "streamId")).containsExactly("ledger-3", "ledger-2");
    JsonNode back =
        app.get("/api/events?category=ledger&limit=2&after=" + page2.get("newer").asText()).json();
    assertThat(ids(back.get("events"), "streamId")).containsExactly("ledger-5", "ledger-4");
    assertThat(
            ids(app.get("/api/events?category=ledger&type=Even,Nope").json().get("events"), "type"))
        .containsExactly("Even", "Even");

    for (String bad :
        List.of(
            "?before=zz",
            "?after=1",
            "?before=1-1&after=1-1",
            "?limit=501",
            "?type=" + "t".repeat(300))) {
      RunningService.Response refused = app.get("/api/events" + bad);
      assertThat(refused.status()).as(bad).isEqualTo(400);
      assertThat(refused.errorMessage()).as(bad).isNotBlank();
    }
  }

  @Test
  void a_parked_failure_shows_its_event_error_and_attempts_only_to_token_holders()
      throws Exception {
    EventStore store = app.service.store();
    var consumer =
        app.service
            .scans()
            .subscriptions()
            .start(
                SubscriptionOptions.named("grumpy-consumer")
                    .filter(EventFilter.categories("grumpy"))
                    .pollInterval(Duration.ofMillis(100))
                    .retryPolicy(new RetryPolicy(2, Duration.ofMillis(5), 1, Duration.ofMillis(5))),
                event -> {
                  throw new IllegalStateException("grumpy about " + event.streamId());
                });
    try {
      store.append("grumpy-1", ExpectedVersion.noStream(), EventData.of("Poked", "{\"n\":1}"));
      RunningService.await(
          "a parked failure",
          () -> {
            try {
              return app.get("/api/events/failures?subscription=grumpy-consumer")
                      .json()
                      .get("failures")
                      .size()
                  == 1;
            } catch (Exception e) {
              return false;
            }
          });
      long id =
          app.get("/api/events/failures?subscription=grumpy-consumer")
              .json()
              .get("failures")
              .get(0)
              .get("id")
              .asLong();
      assertThat(app.get("/api/events/failures?subscription=nobody").json().get("failures"))
          .isEmpty();

      JsonNode detail = app.get("/api/events/failures/" + id).json();
      assertThat(detail.get("failure").get("errorMessage").asText()).contains("grumpy about");
      assertThat(detail.get("failure").get("errorStack").asText()).contains("IllegalState");
      assertThat(detail.get("failure").get("attempts").asInt()).isGreaterThanOrEqualTo(2);
      assertThat(detail.get("event").get("streamId").asText()).isEqualTo("grumpy-1");
      assertThat(detail.get("event").get("data").get("n").asInt()).isEqualTo(1);

      assertThat(app.get("/api/events/failures/999999").status()).isEqualTo(404);
      assertThat(app.get("/api/events/failures/x").status()).isEqualTo(404);
      RunningService.Response anonymous = secured.get("/api/events/failures/" + id);
      assertThat(anonymous.status()).isEqualTo(401);
      assertThat(anonymous.body()).doesNotContain("IllegalState");
      assertThat(
              secured
                  .send(
                      java.net.http.HttpRequest.newBuilder(
                              java.net.URI.create(secured.url + "/api/events/failures/" + id))
                          .header("Authorization", "Bearer " + TOKEN))
                  .status())
          .isEqualTo(200);
    } finally {
      consumer.stop();
    }
  }

  @Test
  void rates_and_events_today_come_from_the_apps_projection() throws Exception {
    EventStore store = app.service.store();
    store.append("meter-1", ExpectedVersion.noStream(), EventData.of("Ticked", "{}"));
    RunningService.await(
        "the tick counted",
        () -> {
          try {
            JsonNode series = app.get("/api/events/rates?minutes=15&by=type").json().get("series");
            return series.has("Ticked");
          } catch (Exception e) {
            return false;
          }
        });
    JsonNode rates = app.get("/api/events/rates?minutes=15&by=type").json();
    assertThat(rates.get("bucketSeconds").asInt()).isEqualTo(10);
    assertThat(rates.get("starts")).hasSize(90);
    assertThat(rates.get("total")).hasSize(90);
    long ticked = 0;
    for (JsonNode n : rates.get("series").get("Ticked")) {
      ticked += n.asLong();
    }
    assertThat(ticked).isEqualTo(1);

    String lastHour =
        URLEncoder.encode(
            Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MINUTES).toString(),
            StandardCharsets.UTF_8);
    assertThat(
            app.get("/api/events/overview?dayStart=" + lastHour).json().get("eventsToday").asLong())
        .isGreaterThanOrEqualTo(1);
    for (String bad :
        List.of(
            "/api/events/rates?minutes=0",
            "/api/events/rates?by=stream",
            "/api/events/overview?dayStart=yesterday",
            "/api/events/overview?dayStart=2001-01-01T00:00:00Z")) {
      RunningService.Response refused = app.get(bad);
      assertThat(refused.status()).as(bad).isEqualTo(400);
      assertThat(refused.errorMessage()).as(bad).isNotBlank();
    }
    RunningService.await(
        "a lag sample",
        () -> {
          try {
            return app.get("/api/events/lag-history").json().get("samples").size() > 0;
          } catch (Exception e) {
            return false;
          }
        });
    assertThat(
            app.get("/api/events/lag-history").json().get("samples").get(0).get("lags").toString())
        .contains("projection-scan-read-models");
  }
}
