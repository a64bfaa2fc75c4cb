package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import dev.eventscan.web.RunningService.Response;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/** The traffic simulator over real HTTP: controls, bad input, load, and injected faults. */
@ExtendWith(PostgresExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SimulationTest {
  private static RunningService app;

  @BeforeAll
  static void start(TestDatabase database) throws Exception {
    app = new RunningService(database, Map.of("WORKER_POOL_SIZE", "64"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  private static JsonNode status() throws Exception {
    return app.get("/api/simulation/status").json();
  }

  private static void awaitDrained() {
    // Generous: a loaded CI machine drains 500 simulated scans slowly, but it must drain them.
    RunningService.await(
        "every produced scan final",
        java.time.Duration.ofMinutes(3),
        () -> {
          try {
            JsonNode s = status();
            return !s.get("running").asBoolean()
                && s.get("completed").asLong() + s.get("failed").asLong()
                    == s.get("produced").asLong();
          } catch (Exception e) {
            return false;
          }
        });
  }

  @Test
  @Order(1)
  void every_control_rejects_bad_input_with_a_clear_400() throws Exception {
    assertThat(app.postJson("/api/simulation/start", "{\"ratePerSecond\":0}").errorMessage())
        .contains("ratePerSecond");
    assertThat(app.postJson("/api/simulation/start", "{\"ratePerSecond\":1001}").status())
        .isEqualTo(400);
    assertThat(app.postJson("/api/simulation/start", "{\"durationSeconds\":0}").errorMessage())
        .contains("durationSeconds");
    assertThat(app.postJson("/api/simulation/start", "{\"failureRate\":1.5}").errorMessage())
        .contains("failureRate");
    assertThat(app.postJson("/api/simulation/start", "{\"rate\":5}").errorMessage())
        .contains("unknown field 'rate'");
    assertThat(app.postJson("/api/simulation/start", "{\"ratePerSecond\":\"fast\"}").status())
        .isEqualTo(400);
    assertThat(app.postJson("/api/simulation/faults", "{\"failureShare\":2}").status())
        .isEqualTo(400);
    assertThat(status().get("running").asBoolean()).isFalse();
    assertThat(status().get("produced").asLong()).isZero();
  }

  @Test
  @Order(2)
  void start_stop_and_reset_control_the_generator() throws Exception {
    // 600/s: the highest rate benchmarks/run simulator-max-rate tries (the goal is 400/s).
    Response started =
        app.postJson(
            "/api/simulation/start",
            "{\"ratePerSecond\":600,\"durationSeconds\":60,\"failureRate\":0}");
    assertThat(started.status()).isEqualTo(202);
    assertThat(started.json().get("running").asBoolean()).isTrue();
    assertThat(app.postJson("/api/simulation/start", "{}").status())
        .as("already running")
        .isEqualTo(409);
    RunningService.await(
        "scans produced",
        () -> {
          try {
            return status().get("produced").asLong() >= 10;
          } catch (Exception e) {
            return false;
          }
        });
    JsonNode stopped = app.post("/api/simulation/stop").json();
    assertThat(stopped.get("running").asBoolean()).isFalse();
    long produced = stopped.get("produced").asLong();
    Thread.sleep(300);
    assertThat(status().get("produced").asLong()).as("no more after stop").isEqualTo(produced);
    awaitDrained();

    JsonNode reset = app.post("/api/simulation/reset").json();
    assertThat(reset.get("produced").asLong()).isZero();
    assertThat(reset.get("latest")).isEmpty();
  }

  @Test
  @Order(3)
  void fifty_scans_a_second_for_ten_seconds_all_end_and_the_counts_agree() throws Exception {
    app.post("/api/simulation/reset");
    awaitReadModelCaughtUp();
    long endedBefore = countScans("COMPLETED") + countScans("FAILED");
    app.postJson(
        "/api/simulation/start",
        "{\"ratePerSecond\":50,\"durationSeconds\":10,\"failureRate\":0.1}");
    RunningService.await(
        "generator done",
        () -> {
          try {
            return !status().get("running").asBoolean();
          } catch (Exception e) {
            return false;
          }
        });
    // Latency percentiles cover the last two minutes: read them while the run is recent.
    assertThat(status().get("appendLatencyP99Ms").asDouble()).isPositive();
    awaitDrained();
    JsonNode s = status();
    assertThat(s.get("produced").asLong()).as("close to 50/s for 10 s").isBetween(250L, 500L);
    awaitReadModelCaughtUp();
    long endedInReadModel = countScans("COMPLETED") + countScans("FAILED") - endedBefore;
    assertThat(endedInReadModel)
        .as("the read model agrees with the simulator")
        .isEqualTo(s.get("produced").asLong());
    assertThat(s.get("inFlight").asLong()).isZero();
    assertThat(app.get("/metrics").body())
        .contains("simulator_produced")
        .contains("simulator_request_append_seconds");
  }

  /** Waits until the scan read models have handled everything in the log. */
  private static void awaitReadModelCaughtUp() {
    RunningService.await(
        "read model caught up",
        () -> {
          try {
            for (JsonNode p : app.get("/api/events/projections").json().get("projections")) {
              if (p.get("name").asText().equals("scan-read-models")) {
                return p.get("lag").asLong() == 0;
              }
            }
            return false;
          } catch (Exception e) {
            return false;
          }
        });
  }

  private static long countScans(String status) throws Exception {
    long count = 0;
    String cursor = null;
    do {
      JsonNode page =
          app.get(
                  "/api/scans?status="
                      + status
                      + "&limit=200"
                      + (cursor == null ? "" : "&cursor=" + cursor))
              .json();
      for (JsonNode scan : page.get("scans")) {
        if (scan.get("scanner").asText().equals("simulation")) {
          count++;
        }
      }
      cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
    } while (cursor != null);
    return count;
  }

  @Test
  @Order(4)
  void a_failing_projection_parks_events_and_a_retry_clears_them() throws Exception {
    assertThat(app.get("/api/events/projections").body())
        .as("fault injection is registered only when asked for")
        .doesNotContain(Simulator.FAULTY_PROJECTION);
    app.postJson("/api/simulation/faults", "{\"failingProjection\":true,\"failureShare\":1.0}");
    app.createScan("faulty.example");
    RunningService.await(
        "a parked failure",
        () -> {
          try {
            return app.get("/api/events/failures?status=open").json().get("failures").size() > 0;
          } catch (Exception e) {
            return false;
          }
        });
    app.postJson("/api/simulation/faults", "{\"failingProjection\":false}");
    JsonNode failure = app.get("/api/events/failures?status=open").json().get("failures").get(0);
    assertThat(failure.get("subscription").asText())
        .isEqualTo("projection-" + Simulator.FAULTY_PROJECTION);
    assertThat(failure.get("errorMessage").asText()).contains("injected projection fault");
    JsonNode retried =
        app.post("/api/events/failures/" + failure.get("id").asLong() + "/retry").json();
    assertThat(retried.get("status").asText()).isEqualTo("retried");
  }

  @Test
  @Order(5)
  void after_a_worker_crash_every_scan_still_completes() throws Exception {
    app.post("/api/simulation/reset");
    app.postJson(
        "/api/simulation/start", "{\"ratePerSecond\":20,\"durationSeconds\":3,\"failureRate\":0}");
    Thread.sleep(1_000);
    JsonNode crash = app.post("/api/simulation/faults/crash-worker").json();
    assertThat(crash.get("crashed").asBoolean()).isTrue();
    awaitDrained();
    JsonNode s = status();
    assertThat(s.get("completed").asLong()).isEqualTo(s.get("produced").asLong()).isPositive();
  }
}
