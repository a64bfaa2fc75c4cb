package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import dev.eventscan.web.RunningService.Response;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The scans API over real HTTP, on a real PostgreSQL. */
@ExtendWith(PostgresExtension.class)
class ScanApiTest {
  private static RunningService app;
  private static TestDatabase database;

  @BeforeAll
  static void start(TestDatabase testDatabase) throws Exception {
    database = testDatabase;
    app = new RunningService(testDatabase, Map.of());
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void a_requested_scan_is_accepted_runs_to_completion_and_can_be_read_every_way()
      throws Exception {
    Response created =
        app.postJson(
            "/api/scans",
            "{\"target\":\"Bücher.Example\",\"scanner\":\"simulated\",\"maxRetries\":5}");
    assertThat(created.status()).isEqualTo(202);
    String id = created.json().get("id").asText();
    assertThat(created.raw().headers().firstValue("Location")).hasValue("/api/scans/" + id);
    assertThat(created.json().get("target").asText()).isEqualTo("xn--bcher-kva.example");

    app.awaitStatus(id, "COMPLETED");

    JsonNode scan = app.get("/api/scans/" + id).json();
    assertThat(scan.get("progressPercent").asInt()).isEqualTo(100);
    assertThat(scan.get("score").isInt()).isTrue();
    assertThat(scan.get("scoreBreakdown").get("breakdown")).hasSize(4);
    assertThat(scan.get("findings").size()).isEqualTo(scan.get("subdomains").asInt());

    JsonNode events = app.get("/api/scans/" + id + "/events").json().get("events");
    assertThat(events.get(0).get("type").asText()).isEqualTo("ScanRequested");
    assertThat(events.get(events.size() - 1).get("type").asText()).isEqualTo("ScanCompleted");
    assertThat(events.get(0).has("metadata")).as("no internal metadata").isFalse();
    assertThat(events.get(0).get("correlationId").asText()).isEqualTo(id);

    Response csv = app.get("/api/scans/" + id + "/export?format=csv");
    assertThat(csv.status()).isEqualTo(200);
    assertThat(csv.raw().headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
    assertThat(csv.body()).startsWith("domain,subdomain,record_type,value,discovered_at");
    assertThat(csv.body().split("\r\n")).hasSize(1 + scan.get("subdomains").asInt());
    Response json = app.get("/api/scans/" + id + "/export?format=json");
    assertThat(json.json().get("scanId").asText()).isEqualTo(id);
    assertThat(app.get("/api/scans/" + id + "/export?format=xml").status()).isEqualTo(400);

    JsonNode history = app.get("/api/targets/B%C3%BCcher.example/history").json();
    assertThat(history.get("target").asText()).isEqualTo("xn--bcher-kva.example");
    assertThat(history.get("scans").get(0).get("id").asText()).isEqualTo(id);

    Response cancelTooLate = app.post("/api/scans/" + id + "/cancel");
    assertThat(cancelTooLate.status()).isEqualTo(409);
    assertThat(cancelTooLate.errorCode()).isEqualTo("conflict");
  }

  @Test
  void scans_list_newest_first_with_filters_and_cursor_paging() throws Exception {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      ids.add(app.createScan("paging" + i + ".example"));
    }
    for (String id : ids) {
      app.awaitStatus(id, "COMPLETED");
    }
    Set<String> seen = new HashSet<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page =
          app.get(
                  "/api/scans?status=COMPLETED&limit=2"
                      + (cursor == null ? "" : "&cursor=" + cursor))
              .json();
      page.get("scans").forEach(s -> seen.add(s.get("id").asText()));
      cursor = page.get("nextCursor").isNull() ? null : page.get("nextCursor").asText();
      pages++;
    } while (cursor != null && pages < 100);
    assertThat(seen).containsAll(ids);
    JsonNode byTarget = app.get("/api/scans?target=paging3.example").json().get("scans");
    assertThat(byTarget).hasSize(1);
    assertThat(app.get("/api/scans?status=EXPLODED").status()).isEqualTo(400);
    assertThat(app.get("/api/scans?limit=0").status()).isEqualTo(400);
    assertThat(app.get("/api/scans?limit=abc").errorMessage()).contains("limit");
    assertThat(app.get("/api/scans?cursor=garbage!").errorCode()).isEqualTo("invalid_query");
  }

  @Test
  void every_kind_of_bad_request_gets_a_4xx_with_a_json_error_naming_the_problem()
      throws Exception {
    assertError(app.postJson("/api/scans", "{not json"), 400, "malformed JSON");
    assertError(
        app.postJson("/api/scans", "{\"target\":\"a.com\",\"color\":\"red\"}"),
        400,
        "unknown field 'color'");
    assertError(
        app.postJson("/api/scans", "{\"target\":5}"), 400, "field 'target' has the wrong type");
    assertError(
        app.postJson("/api/scans", "{\"target\":\"a.com\",\"maxRetries\":\"many\"}"),
        400,
        "field 'maxRetries'");
    assertError(
        app.postJson("/api/scans", "{\"target\":\"a.com\",\"maxRetries\":99}"), 400, "maxRetries");
    assertError(
        app.postJson("/api/scans", "{\"target\":\"a.com\",\"scanner\":\"nmap\"}"),
        400,
        "scanner must be one of");
    assertError(app.postJson("/api/scans", "{\"target\":\"not a domain\"}"), 400, "target");
    assertError(app.postJson("/api/scans", "{}"), 400, "'target' is required");
    assertError(app.postJson("/api/scans", "[1,2]"), 400, "JSON object");
    assertError(
        app.postJson("/api/scans", "{\"target\":\"" + "a".repeat(70 * 1024) + ".com\"}"),
        413,
        "at most");
    assertError(
        app.send(
            HttpRequest.newBuilder(URI.create(app.url + "/api/scans"))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("target=a.com"))),
        415,
        "application/json");
    assertError(app.get("/api/scans/00000000-0000-0000-0000-000000000000"), 404, "does not exist");
    assertError(app.get("/api/scans/not-a-uuid"), 404, "does not exist");
    assertError(
        app.post("/api/scans/00000000-0000-0000-0000-000000000000/cancel"), 404, "does not exist");
    assertError(
        app.get("/api/scans/00000000-0000-0000-0000-000000000000/live"), 404, "does not exist");
    assertError(app.get("/nothing/here"), 404, "not found");
    assertError(
        app.send(
            HttpRequest.newBuilder(URI.create(app.url + "/api/scans"))
                .header("Content-Type", "application/json")
                .DELETE()),
        405,
        "not allowed");
    assertError(app.get("/api/targets/-bad-/history"), 400, "target");
  }

  @Test
  void with_an_api_token_mutating_requests_need_it() throws Exception {
    try (RunningService secured =
        new RunningService(database, Map.of("API_TOKEN", "s3cret-s3cret-s3cret"))) {
      assertError(secured.postJson("/api/scans", "{\"target\":\"a.com\"}"), 401, "Bearer");
      Response allowed =
          secured.send(
              HttpRequest.newBuilder(URI.create(secured.url + "/api/scans"))
                  .header("Content-Type", "application/json")
                  .header("Authorization", "Bearer s3cret-s3cret-s3cret")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"a.com\"}")));
      assertThat(allowed.status()).isEqualTo(202);
      assertThat(secured.get("/api/scans").status()).as("reads stay open").isEqualTo(200);
    }
  }

  @Test
  void creating_scans_is_rate_limited_per_client() throws Exception {
    try (RunningService limited =
        new RunningService(database, Map.of("SCAN_RATE_LIMIT_PER_MINUTE", "3"))) {
      for (int i = 0; i < 3; i++) {
        assertThat(
                limited.postJson("/api/scans", "{\"target\":\"limit" + i + ".example\"}").status())
            .isEqualTo(202);
      }
      Response refused = limited.postJson("/api/scans", "{\"target\":\"limit9.example\"}");
      assertError(refused, 429, "too many");
      assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();
    }
  }

  @Test
  void the_rate_limit_holds_across_nodes_on_one_database() throws Exception {
    Map<String, String> fourPerMinute = Map.of("SCAN_RATE_LIMIT_PER_MINUTE", "4");
    try (RunningService first = new RunningService(database, fourPerMinute);
        RunningService second = new RunningService(database, fourPerMinute)) {
      for (int i = 0; i < 4; i++) {
        RunningService node = i % 2 == 0 ? first : second;
        assertThat(node.postJson("/api/scans", "{\"target\":\"nodes" + i + ".example\"}").status())
            .isEqualTo(202);
      }
      for (RunningService node : List.of(first, second)) {
        Response refused = node.postJson("/api/scans", "{\"target\":\"nodes9.example\"}");
        assertError(refused, 429, "too many");
        assertThat(refused.raw().headers().firstValue("Retry-After").map(Long::parseLong))
            .hasValueSatisfying(seconds -> assertThat(seconds).isBetween(1L, 15L));
      }
    }
  }

  @Test
  void behind_a_trusted_proxy_the_limit_counts_the_address_the_proxy_names() throws Exception {
    Map<String, String> env =
        Map.of("SCAN_RATE_LIMIT_PER_MINUTE", "1", "CLIENT_ADDRESS_HEADER", "X-Real-IP");
    try (RunningService proxied = new RunningService(database, env)) {
      assertThat(createFrom(proxied, "192.0.2.1").status()).isEqualTo(202);
      assertError(createFrom(proxied, "192.0.2.1"), 429, "too many");
      assertThat(createFrom(proxied, "192.0.2.2").status()).isEqualTo(202);
    }
    // Without the setting the header is only a header: both share the peer's budget.
    try (RunningService direct =
        new RunningService(database, Map.of("SCAN_RATE_LIMIT_PER_MINUTE", "2"))) {
      assertThat(createFrom(direct, "192.0.2.3").status()).isEqualTo(202);
      assertThat(createFrom(direct, "192.0.2.4").status()).isEqualTo(202);
      assertError(createFrom(direct, "192.0.2.5"), 429, "too many");
    }
  }

  private static Response createFrom(RunningService node, String address) throws Exception {
    return node.send(
        HttpRequest.newBuilder(URI.create(node.url + "/api/scans"))
            .header("Content-Type", "application/json")
            .header("X-Real-IP", address)
            .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"proxied.example\"}")));
  }

  private static void assertError(Response response, int status, String messagePart) {
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.raw().headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/json");
    assertThat(response.errorMessage()).containsIgnoringCase(messagePart);
    assertThat(response.errorCode()).isNotBlank();
  }
}
