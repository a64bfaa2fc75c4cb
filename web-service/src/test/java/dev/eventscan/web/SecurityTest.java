package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.position.Position;
import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The service as an attacker meets it, over real HTTP: a page on another site driving a visitor's
 * browser (cross-site requests, DNS rebinding), a caller without the token, and malformed input.
 * Two services on one database: the default one (no token) and one with API_TOKEN.
 */
@ExtendWith(PostgresExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityTest {
  private static final String TOKEN = "test-token-0123456789";
  private static RunningService open;
  private static RunningService secured;
  private static String scanId;

  /** One way a request can be wrong, and the refusal it must get. */
  record Attack(String name, Map<String, String> headers, String body, int status, String code) {}

  @BeforeAll
  static void start(TestDatabase database) throws Exception {
    open = new RunningService(database, Map.of());
    secured = new RunningService(database, Map.of("API_TOKEN", TOKEN));
    scanId = open.createScan("guarded.example");
    open.awaitStatus(scanId, "COMPLETED");
  }

  @AfterAll
  static void stop() {
    secured.close();
    open.close();
  }

  @Test
  void every_mutating_route_refuses_cross_site_and_non_json_requests_when_no_token_is_set()
      throws Exception {
    refusesEverywhere(open, browserAttacks(open, Map.of()));
  }

  @Test
  void every_mutating_route_refuses_requests_without_the_token_or_from_another_site()
      throws Exception {
    Map<String, String> token = Map.of("Authorization", "Bearer " + TOKEN);
    List<Attack> attacks = new ArrayList<>(browserAttacks(secured, token));
    attacks.add(attack("no token", json(), "{}", 401, "unauthorized"));
    attacks.add(
        attack(
            "wrong token",
            json("Authorization", "Bearer " + TOKEN + "x"),
            "{}",
            401,
            "unauthorized"));
    attacks.add(
        attack("token without Bearer", json("Authorization", TOKEN), "{}", 401, "unauthorized"));
    refusesEverywhere(secured, attacks);
  }

  /** Last: it really starts the simulator and a scan, which would move the log under the others. */
  @Test
  @Order(Integer.MAX_VALUE)
  void a_same_origin_json_request_with_the_token_gets_through_to_the_route() throws Exception {
    for (String route : mutatingRoutes(secured)) {
      RawHttp.Response answer =
          call(
              secured,
              route,
              json(
                  "Authorization", "Bearer " + TOKEN,
                  "Origin", "http://127.0.0.1:" + secured.service.port(),
                  "Sec-Fetch-Site", "same-origin"),
              route.endsWith("/api/scans") ? "{\"target\":\"allowed.example\"}" : "{}");
      assertThat(answer.status()).as(route + ": " + answer).isNotIn(401, 403, 415, 421);
      assertThat(answer.isJson()).as(route + " answers JSON").isTrue();
    }
    call(secured, "POST /api/simulation/stop", json("Authorization", "Bearer " + TOKEN), "{}");
  }

  @Test
  void a_foreign_host_is_refused_on_reads_and_pages_too_so_dns_rebinding_gets_nothing()
      throws Exception {
    for (String target : List.of("/api/scans", "/analyses", "/api/events/overview", "/health")) {
      RawHttp.Response answer =
          RawHttp.request(
              open.service.port(), "GET", target, Map.of("Host", "attacker.example"), null);
      assertThat(answer.status()).as(target).isEqualTo(421);
      assertThat(answer.errorCode()).isEqualTo("unknown_host");
    }
    for (String host : List.of("localhost", "127.0.0.1", "LOCALHOST.", "[::1]")) {
      int port = open.service.port();
      RawHttp.Response answer =
          RawHttp.request(port, "GET", "/health", Map.of("Host", host + ":" + port), null);
      assertThat(answer.status()).as(host).isEqualTo(200);
    }
    try (RunningService listed =
        new RunningService(open.database, Map.of("ALLOWED_HOSTS", "scans.example.org"))) {
      RawHttp.Response named =
          RawHttp.request(
              listed.service.port(), "GET", "/health", Map.of("Host", "scans.example.org"), null);
      assertThat(named.status()).isEqualTo(200);
    }
  }

  @Test
  void with_a_token_the_reads_that_expose_internals_need_it() throws Exception {
    Map<String, String> token = Map.of("Authorization", "Bearer " + TOKEN);
    for (String target : List.of("/api/events/failures", "/metrics")) {
      assertThat(get(secured, target, Map.of()).status()).as(target).isEqualTo(401);
      assertThat(get(secured, target, token).status()).as(target).isEqualTo(200);
    }
    // A failure's detail holds its stack trace: refused before the id is even looked up.
    assertThat(get(secured, "/api/events/failures/1", Map.of()).status()).isEqualTo(401);
    assertThat(get(secured, "/api/events/failures/1", token).status()).isEqualTo(404);
    String publicOverview = get(secured, "/api/events/overview", Map.of()).body();
    assertThat(publicOverview).contains("scan-process-manager").doesNotContain("\"owner\"");
    assertThat(get(secured, "/api/events/overview", token).body()).contains("\"owner\"");
    for (String target : List.of("/api/scans", "/api/scans/" + scanId, "/health", "/ready")) {
      assertThat(get(secured, target, Map.of()).status())
          .as(target + " stays public")
          .isEqualTo(200);
    }
  }

  @Test
  void jetty_level_refusals_answer_with_the_json_error_body() throws Exception {
    int port = open.service.port();
    List<String> heads =
        List.of(
            "GET /api/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /api/%00 HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /api/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /api/%C3%28 HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /api/a%2F..%2Fb HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n",
            "CONNECT evil.example:443 HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "BREW /pot HTTP/1.1\r\nHost: localhost\r\n\r\n",
            "GARBAGE\r\n\r\n",
            "GET /api/scans HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n");
    SoftAssertions soft = new SoftAssertions();
    for (String head : heads) {
      String request = head.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
      RawHttp.Response answer = RawHttp.send(port, request, new byte[0]);
      String what = head.length() > 60 ? head.substring(0, 60) : head;
      soft.assertThat(answer.status()).as(what).isBetween(400, 499);
      soft.assertThat(answer.isJson()).as(what + " answers JSON: " + answer).isTrue();
      if (answer.isJson()) {
        soft.assertThat(answer.errorCode()).as(what).isNotBlank();
      }
      soft.assertThat(answer.body()).as(what).doesNotContain("<html", "Exception", "jetty");
    }
    soft.assertAll();
  }

  @Test
  void query_parameters_that_cannot_be_decoded_or_are_out_of_range_are_400() throws Exception {
    String nulCursor =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString("2026-01-01T00:00:00Z|\0abc".getBytes(StandardCharsets.UTF_8));
    String beyondHead = "999999999-999999999";
    Map<String, String> stream = Map.of("Accept", "text/event-stream");
    SoftAssertions soft = new SoftAssertions();
    for (String target :
        List.of(
            "/api/scans?status=%zz",
            "/api/scans?status=%C3%28",
            "/api/scans?target=a%00.example",
            "/api/scans?limit=abc",
            "/api/scans?limit=99999999999",
            "/api/scans?limit=0",
            "/api/scans?cursor=" + nulCursor,
            "/api/events/recent?limit=-1",
            "/api/events/live?category=%00&from=0-0",
            "/api/events/live?from=" + beyondHead,
            "/api/scans/" + scanId + "/live?from=" + beyondHead,
            "/api/streams/scan-" + scanId + "?from=99999999999")) {
      RawHttp.Response answer = get(open, target, stream);
      soft.assertThat(answer.status()).as(target + ": " + answer).isEqualTo(400);
      soft.assertThat(answer.isJson()).as(target + " answers JSON").isTrue();
    }
    RawHttp.Response rebuild =
        call(
            open,
            "POST /api/events/projections/scan-read-models/rebuild?from=" + beyondHead,
            json(),
            null);
    soft.assertThat(rebuild.status()).as("rebuild from beyond the head").isEqualTo(400);
    RawHttp.Response dryRun =
        call(
            open, "POST /api/events/projections/scan-read-models/rebuild?dryRun=yes", json(), null);
    soft.assertThat(dryRun.status()).as("dryRun=yes").isEqualTo(400);
    soft.assertAll();
  }

  @Test
  void a_body_of_null_is_a_400_on_every_route_that_reads_a_body() throws Exception {
    for (String route :
        List.of("POST /api/scans", "POST /api/simulation/start", "POST /api/simulation/faults")) {
      RawHttp.Response answer = call(open, route, json(), "null");
      assertThat(answer.status()).as(route).isEqualTo(400);
      assertThat(answer.json().path("error").path("message").asText()).contains("JSON object");
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "metadata.google.internal",
        "printer.local",
        "router.home.arpa",
        "db.localhost",
        "1.0.0.10.in-addr.arpa",
        "host.test",
        "x.invalid",
        "hidden.onion",
        "nas.lan",
        "intranet",
      })
  void special_use_and_private_names_are_refused_as_targets(String target) throws Exception {
    RawHttp.Response answer =
        call(open, "POST /api/scans", json(), "{\"target\":\"" + target + "\"}");
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.errorCode()).isEqualTo("invalid_target");
  }

  @Test
  void live_streams_are_capped_in_total_and_per_client_with_503_and_retry_after() throws Exception {
    try (RunningService capped =
            new RunningService(
                open.database,
                Map.of("MAX_LIVE_CONNECTIONS", "3", "MAX_LIVE_CONNECTIONS_PER_CLIENT", "2"));
        LiveStream first = LiveStream.open(capped, "127.0.0.1");
        LiveStream second = LiveStream.open(capped, "127.0.0.1")) {
      assertThat(first.answer.status()).isEqualTo(200);
      assertThat(second.answer.status()).isEqualTo(200);
      try (LiveStream third = LiveStream.open(capped, "127.0.0.1")) {
        assertThat(third.answer.status()).isEqualTo(503);
        assertThat(third.answer.header("Retry-After")).isEqualTo("5");
        assertThat(third.answer.errorCode()).isEqualTo("too_many_live_connections");
        assertThat(third.answer.body()).contains("this client");
      }
      try (LiveStream otherClient = LiveStream.open(capped, "127.0.0.2");
          LiveStream overTotal = LiveStream.open(capped, "127.0.0.3")) {
        assertThat(otherClient.answer.status()).isEqualTo(200);
        assertThat(overTotal.answer.status()).isEqualTo(503);
        assertThat(overTotal.answer.body()).contains("the service");
      }
      first.close();
      // The server notices a closed stream on its next keep-alive (1 s here) and frees its place.
      RunningService.await(
          "a place freed",
          () -> {
            try (LiveStream again = LiveStream.open(capped, "127.0.0.1")) {
              return again.answer.status() == 200;
            } catch (Exception e) {
              return false;
            }
          });
    }
  }

  /** A live stream held open on its own socket, from a chosen loopback address. */
  record LiveStream(java.net.Socket socket, RawHttp.Response answer) implements AutoCloseable {
    static LiveStream open(RunningService app, String from) throws Exception {
      java.net.Socket socket = new java.net.Socket();
      socket.bind(new java.net.InetSocketAddress(from, 0));
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", app.service.port()), 5_000);
      socket.setSoTimeout(30_000);
      socket
          .getOutputStream()
          .write(
              ("GET /api/events/live HTTP/1.1\r\nHost: localhost\r\n"
                      + "Accept: text/event-stream\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      return new LiveStream(socket, RawHttp.read(socket.getInputStream()));
    }

    @Override
    public void close() throws java.io.IOException {
      socket.close();
    }
  }

  /**
   * Every attack on every mutating route the service registers (so a route added later is covered),
   * each refused with its status and code; and none of them changed anything.
   */
  private static void refusesEverywhere(RunningService app, List<Attack> attacks) throws Exception {
    List<String> routes = mutatingRoutes(app);
    assertThat(routes).contains("POST /api/scans", "POST /api/simulation/start");
    Position headBefore = app.service.store().headPosition();
    SoftAssertions soft = new SoftAssertions();
    for (String route : routes) {
      for (Attack attack : attacks) {
        RawHttp.Response answer = call(app, route, attack.headers(), attack.body());
        String what = route + " with " + attack.name();
        soft.assertThat(answer.status()).as(what + ": " + answer).isEqualTo(attack.status());
        if (answer.isJson()) {
          soft.assertThat(answer.errorCode()).as(what).isEqualTo(attack.code());
        } else {
          soft.fail(what + " did not answer JSON: " + answer);
        }
      }
    }
    soft.assertAll();
    assertThat(app.service.store().headPosition()).as("no event appended").isEqualTo(headBefore);
    assertThat(app.get("/api/simulation/status").json().get("running").asBoolean()).isFalse();
    assertThat(app.get("/api/scans/" + scanId).json().get("status").asText())
        .isEqualTo("COMPLETED");
  }

  /** What a page on another site can make a browser send; {@code auth} is added to each. */
  private static List<Attack> browserAttacks(RunningService app, Map<String, String> auth) {
    int port = app.service.port();
    String body = "{\"target\":\"csrf.example\"}";
    List<Attack> attacks =
        List.of(
            attack(
                "a cross-site Origin",
                json("Origin", "http://evil.example"),
                body,
                403,
                "cross_site_request"),
            attack("Origin null", json("Origin", "null"), body, 403, "cross_site_request"),
            attack(
                "an Origin on another port",
                json("Origin", "http://127.0.0.1:" + (port == 1 ? 2 : 1)),
                body,
                403,
                "cross_site_request"),
            attack(
                "Sec-Fetch-Site: cross-site",
                json("Sec-Fetch-Site", "cross-site"),
                body,
                403,
                "cross_site_request"),
            attack("no content type", Map.of(), null, 415, "unsupported_media_type"),
            attack("no content type with a body", Map.of(), body, 415, "unsupported_media_type"),
            attack(
                "text/plain",
                Map.of("Content-Type", "text/plain"),
                body,
                415,
                "unsupported_media_type"),
            attack(
                "a form",
                Map.of("Content-Type", "application/x-www-form-urlencoded"),
                "target=csrf.example",
                415,
                "unsupported_media_type"),
            attack(
                "multipart",
                Map.of("Content-Type", "multipart/form-data; boundary=x"),
                "--x--",
                415,
                "unsupported_media_type"),
            attack(
                "a JSON look-alike type",
                Map.of("Content-Type", "application/jsonp"),
                body,
                415,
                "unsupported_media_type"),
            attack("a foreign Host", json("Host", "attacker.example"), body, 421, "unknown_host"),
            attack(
                "DNS rebinding (foreign Host, matching Origin)",
                json(
                    "Host",
                    "attacker.example:" + port,
                    "Origin",
                    "http://attacker.example:" + port),
                body,
                421,
                "unknown_host"));
    List<Attack> withAuth = new ArrayList<>();
    for (Attack attack : attacks) {
      Map<String, String> headers = new LinkedHashMap<>(auth);
      headers.putAll(attack.headers());
      withAuth.add(
          new Attack(attack.name(), headers, attack.body(), attack.status(), attack.code()));
    }
    return withAuth;
  }

  private static List<String> mutatingRoutes(RunningService app) {
    return app.service.routes().stream()
        .filter(route -> !route.startsWith("GET ") && !route.startsWith("HEAD "))
        .distinct()
        .toList();
  }

  /** Calls a route given as "METHOD /path/{param}", its parameters filled in. */
  private static RawHttp.Response call(
      RunningService app, String route, Map<String, String> headers, String body) throws Exception {
    String method = route.substring(0, route.indexOf(' '));
    String path =
        route
            .substring(route.indexOf(' ') + 1)
            .replace("{name}", "scan-read-models")
            .replace("{id}", route.contains("/api/scans/") ? scanId : "1");
    return RawHttp.request(app.service.port(), method, path, headers, body);
  }

  private static RawHttp.Response get(
      RunningService app, String target, Map<String, String> headers) throws Exception {
    return RawHttp.request(app.service.port(), "GET", target, headers, null);
  }

  private static Attack attack(
      String name, Map<String, String> headers, String body, int status, String code) {
    return new Attack(name, headers, body, status, code);
  }

  private static Map<String, String> json(String... pairs) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    for (int i = 0; i < pairs.length; i += 2) {
      headers.put(pairs[i], pairs[i + 1]);
    }
    return headers;
  }
}
