package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.eventstore.subscription.ParkedFailure;
import dev.eventscan.eventstore.subscription.RetryPolicy;
import dev.eventscan.eventstore.subscription.SubscriptionOptions;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Event monitoring, streams, operations endpoints and the CLI, over real HTTP. */
@ExtendWith(PostgresExtension.class)
class MonitoringApiTest {
  private static RunningService app;

  @BeforeAll
  static void start(TestDatabase database) throws Exception {
    app = new RunningService(database, Map.of());
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void overview_statistics_recent_and_projections_reflect_the_log() throws Exception {
    String id = app.createScan("monitored.example");
    app.awaitStatus(id, "COMPLETED");
    RunningService.await(
        "statistics caught up",
        () -> {
          try {
            JsonNode o = app.get("/api/events/overview").json();
            return o.get("countedUpTo").asText().equals(o.get("head").asText())
                && o.get("eventsToday").asLong() == o.get("totalEvents").asLong();
          } catch (Exception e) {
            return false;
          }
        });

    JsonNode overview = app.get("/api/events/overview").json();
    int scanEvents = app.get("/api/scans/" + id + "/events").json().get("events").size();
    assertThat(overview.get("totalEvents").asLong()).isGreaterThanOrEqualTo(scanEvents);
    assertThat(overview.get("eventsToday").asLong())
        .isEqualTo(overview.get("totalEvents").asLong());
    assertThat(overview.get("eventTypes").toString()).contains("ScanCompleted");
    assertThat(overview.get("projections").toString())
        .contains("scan-read-models", "event-statistics");
    assertThat(overview.get("subscriptions").toString()).contains("scan-process-manager");

    JsonNode statistics = app.get("/api/events/statistics").json();
    assertThat(statistics.get("perMinuteLastHour")).hasSize(60);
    assertThat(statistics.get("byCategory").toString()).contains("\"scan\"");

    JsonNode recent = app.get("/api/events/recent?limit=3").json().get("events");
    assertThat(recent).hasSize(3);
    assertThat(recent.get(0).get("position").asText()).isEqualTo(overview.get("head").asText());
    assertThat(app.get("/api/events/recent?limit=0").status()).isEqualTo(400);

    JsonNode projections = app.get("/api/events/projections").json().get("projections");
    assertThat(projections.toString()).contains("running");

    JsonNode stream = app.get("/api/streams/scan-" + id + "?from=2&limit=2").json();
    assertThat(stream.get("events")).hasSize(2);
    assertThat(stream.get("events").get(0).get("version").asInt()).isEqualTo(2);
    assertThat(app.get("/api/streams/nope-1").status()).isEqualTo(404);
    assertThat(app.get("/api/streams/scan-" + id + "?limit=5000").status()).isEqualTo(400);
  }

  @Test
  void a_rebuild_is_accepted_and_a_dry_run_reports_what_it_would_replay() throws Exception {
    JsonNode dryRun =
        app.post("/api/events/projections/scan-read-models/rebuild?dryRun=true").json();
    assertThat(dryRun.get("events").asLong()).isGreaterThanOrEqualTo(0);
    RunningService.Response rebuild = app.post("/api/events/projections/scan-read-models/rebuild");
    assertThat(rebuild.status()).isEqualTo(202);
    assertThat(app.post("/api/events/projections/nope/rebuild").status()).isEqualTo(404);
    assertThat(app.post("/api/events/projections/scan-read-models/rebuild?from=zz").status())
        .isEqualTo(400);
  }

  @Test
  void parked_failures_are_listed_retried_and_resolved_through_the_api() throws Exception {
    EventStore store = app.service.store();
    AtomicBoolean healed = new AtomicBoolean();
    var consumer =
        app.service
            .scans()
            .subscriptions()
            .start(
                SubscriptionOptions.named("flaky-consumer")
                    .filter(EventFilter.categories("flaky"))
                    .pollInterval(Duration.ofMillis(100))
                    .retryPolicy(new RetryPolicy(2, Duration.ofMillis(5), 1, Duration.ofMillis(5))),
                event -> {
                  if (!healed.get()) {
                    throw new IllegalStateException("not today");
                  }
                });
    store.append("flaky-1", ExpectedVersion.noStream(), EventData.of("Flaked", "{}"));
    store.append("flaky-2", ExpectedVersion.noStream(), EventData.of("Flaked", "{}"));
    RunningService.await(
        "two parked failures",
        () -> {
          try {
            return app.get("/api/events/failures?status=open").json().get("failures").size() == 2;
          } catch (Exception e) {
            return false;
          }
        });
    List<Long> ids =
        app.get("/api/events/failures?status=open").json().get("failures").findValues("id").stream()
            .map(JsonNode::asLong)
            .toList();
    assertThat(app.get("/api/events/overview").json().get("openFailures").asInt()).isEqualTo(2);

    JsonNode stillFailing = app.post("/api/events/failures/" + ids.get(0) + "/retry").json();
    assertThat(stillFailing.get("status").asText()).isEqualTo(ParkedFailure.OPEN);
    healed.set(true);
    assertThat(
            app.post("/api/events/failures/" + ids.get(0) + "/retry").json().get("status").asText())
        .isEqualTo(ParkedFailure.RETRIED);
    assertThat(app.post("/api/events/failures/" + ids.get(1) + "/resolve").status()).isEqualTo(200);
    assertThat(app.post("/api/events/failures/" + ids.get(1) + "/resolve").status()).isEqualTo(409);
    RunningService.Response retriedAgain =
        app.post("/api/events/failures/" + ids.get(0) + "/retry");
    assertThat(retriedAgain.status()).isEqualTo(409);
    assertThat(retriedAgain.errorMessage()).contains("already retried");
    assertThat(app.post("/api/events/failures/abc/retry").status()).isEqualTo(404);
    assertThat(app.get("/api/events/failures?status=weird").status()).isEqualTo(400);
    assertThat(app.get("/api/events/failures?status=open").json().get("failures")).isEmpty();
    consumer.stop();
  }

  @Test
  void health_ready_and_metrics_answer() throws Exception {
    app.awaitStatus(app.createScan("metered.example"), "COMPLETED");
    RunningService.await(
        "appends counted",
        () -> {
          try {
            return app.get("/metrics").body().contains("eventstore_events_appended_total");
          } catch (Exception e) {
            return false;
          }
        });
    assertThat(app.get("/health").json().get("status").asText()).isEqualTo("up");
    JsonNode ready = app.get("/ready").json();
    assertThat(ready.get("ready").asBoolean()).isTrue();
    String metrics = app.get("/metrics").body();
    assertThat(metrics)
        .contains("http_server_requests_seconds_count")
        .contains("jvm_memory_used_bytes")
        .contains("eventstore_barrier_age_seconds")
        .contains("eventstore_subscription_lag_max")
        .contains("sse_clients")
        .contains("eventstore_events_appended_total");
  }

  @Test
  void subscriptions_show_their_segments_with_owners_only_to_a_caller_with_the_token(
      TestDatabase database) throws Exception {
    String id = app.createScan("segments.example");
    app.awaitStatus(id, "COMPLETED");
    JsonNode subscriptions = app.get("/api/subscriptions").json();
    assertThat(subscriptions.get("node").asText())
        .isEqualTo(app.service.scans().subscriptions().node());
    JsonNode processManager = subscription(subscriptions);
    assertThat(processManager.get("segmentCount").asInt())
        .isEqualTo(processManager.get("segments").size());
    assertThat(processManager.get("members"))
        .as("the live nodes sharing the segments: this one")
        .singleElement()
        .satisfies(
            member -> {
              assertThat(member.get("node").asText()).isEqualTo(subscriptions.get("node").asText());
              assertThat(java.time.Instant.parse(member.get("lastHeardAt").asText()))
                  .isAfter(java.time.Instant.now().minusSeconds(60));
            });
    long handled = 0;
    for (JsonNode segment : processManager.get("segments")) {
      assertThat(segment.get("checkpoint").asText()).startsWith("scan-process-manager");
      assertThat(segment.get("owner").asText()).contains("@");
      handled += segment.get("eventsHandled").asLong();
    }
    assertThat(handled).as("the scan's events, in the segment of its stream").isPositive();

    String token = "monitoring-token-0123456789";
    try (RunningService guarded = new RunningService(database, Map.of("API_TOKEN", token))) {
      JsonNode anonymous = guarded.get("/api/subscriptions").json();
      assertThat(anonymous.has("node")).isFalse();
      assertThat(subscription(anonymous).get("segments").get(0).has("owner")).isFalse();
      assertThat(subscription(anonymous).has("owners")).isFalse();
      assertThat(subscription(anonymous).has("members")).isFalse();
      JsonNode withToken =
          guarded
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create(guarded.url + "/api/subscriptions"))
                      .header("Authorization", "Bearer " + token))
              .json();
      assertThat(subscription(withToken).get("owners")).isNotEmpty();
    }
  }

  private static JsonNode subscription(JsonNode body) {
    for (JsonNode subscription : body.get("subscriptions")) {
      if (subscription.get("name").asText().equals("scan-process-manager")) {
        return subscription;
      }
    }
    throw new AssertionError("no scan-process-manager in " + body);
  }

  @Test
  void the_cli_monitors_and_replays_through_the_api() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Cli.run(
            List.of("monitor", "--projections", "--url", app.url),
            new PrintStream(out),
            new PrintStream(err));
    assertThat(status).as(err.toString()).isZero();
    assertThat(out.toString()).contains("scan-read-models");

    out.reset();
    status =
        Cli.run(
            List.of("monitor", "--subscriptions", "--url", app.url),
            new PrintStream(out),
            new PrintStream(err));
    assertThat(status).as(err.toString()).isZero();
    assertThat(out.toString())
        .contains("answered by node", "scan-process-manager", "#0")
        .contains("member " + app.service.scans().subscriptions().node());

    out.reset();
    status =
        Cli.run(
            List.of("replay", "--dry-run", "--url", app.url, "--projection", "scan-read-models"),
            new PrintStream(out),
            new PrintStream(err));
    assertThat(status).as(err.toString()).isZero();
    assertThat(out.toString()).contains("\"events\"");

    assertThat(Cli.run(List.of("explode"), new PrintStream(out), new PrintStream(err)))
        .isEqualTo(2);
    assertThat(Cli.run(List.of("monitor", "--help"), new PrintStream(out), new PrintStream(err)))
        .isZero();
    assertThat(out.toString()).contains("usage:");
  }
}
