package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.testsupport.PostgresExtension;
import dev.eventscan.testsupport.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A few thousand generated requests (random routes, paths, methods, headers, query parameters and
 * JSON bodies with NUL, deep nesting, huge numbers and wrong types): none may get a 5xx, every
 * error is the JSON error body without class names or stack traces, and the service still works
 * after. The seed is fixed (override with -Dfuzz.seed) so a failure can be replayed.
 */
@ExtendWith(PostgresExtension.class)
class FuzzTest {
  private static final int REQUESTS = Integer.getInteger("fuzz.requests", 3_000);
  private static final String TOKEN = "fuzz-token-0123456789";
  private static final Pattern INTERNALS =
      Pattern.compile(
          "(?i)exception|\\bat [a-z]+\\.[a-z]|\\b(java|javax|jakarta|org|com|io|dev)\\.[a-z]+\\.|"
              + "sqlstate|\\berror: |<html|stacktrace");
  private static final List<String> ROUTES =
      List.of(
          "/api/scans",
          "/api/scans/{id}",
          "/api/scans/{id}/events",
          "/api/scans/{id}/cancel",
          "/api/scans/{id}/export",
          "/api/scans/{id}/live",
          "/api/targets/{x}/history",
          "/api/events/overview",
          "/api/events/statistics",
          "/api/events/recent",
          "/api/events/projections",
          "/api/events/failures",
          "/api/events/projections/{x}/rebuild",
          "/api/events/failures/{n}/resolve",
          "/api/events/failures/{n}/retry",
          "/api/events/live",
          "/api/streams/{x}",
          "/api/simulation/start",
          "/api/simulation/stop",
          "/api/simulation/reset",
          "/api/simulation/status",
          "/api/simulation/faults",
          "/api/simulation/faults/crash-worker",
          "/health",
          "/ready",
          "/metrics",
          "/analyses",
          "/monitor",
          "/");
  private static final List<String> PARAMETERS =
      List.of(
          "limit", "status", "cursor", "from", "target", "category", "type", "dryRun", "format");
  private static final List<String> FIELDS =
      List.of(
          "target",
          "scanner",
          "maxRetries",
          "ratePerSecond",
          "durationSeconds",
          "failureRate",
          "failingProjection",
          "failureShare",
          "extra");
  private static final List<String> TEXTS =
      List.of(
          "",
          "example.com",
          "fuzz.example",
          "printer.local",
          "metadata.google.internal",
          "a\u0000b.example",
          "\u0000",
          "Bücher.example",
          "\uD83D\uDE00.example",
          "https://example.com/x",
          "../../etc/passwd",
          "'; DROP TABLE events; --",
          "<script>alert(1)</script>",
          "simulated",
          "dns",
          "nmap",
          "COMPLETED",
          "open",
          "0-0",
          "999999999-999999999",
          "x".repeat(5_000));
  private static final List<String> NUMBERS =
      List.of(
          "0",
          "-1",
          "1",
          "3",
          "0.5",
          "1.5",
          "1e400",
          "-1e400",
          "99999999999999999999999",
          "2147483648",
          "-2147483649",
          "1e-320",
          "-0.0",
          "0.0000001");
  private static final List<String> RAW_VALUES =
      List.of(
          "%00",
          "%zz",
          "%",
          "%C3%28",
          "%FF",
          "abc",
          "-1",
          "0",
          "99999999999",
          "1e3",
          "true",
          "yes",
          "%E2%80%AE",
          "a%20b",
          "+",
          "0-0",
          "1-2",
          "999999999-999999999",
          "ZZZZ",
          "%2F..%2F");

  @Test
  void thousands_of_generated_requests_get_no_5xx_and_only_clean_json_errors(TestDatabase database)
      throws Exception {
    long seed = Long.getLong("fuzz.seed", 15L);
    Random random = new Random(seed);
    Map<Integer, Integer> statuses = new TreeMap<>();
    List<String> problems = new ArrayList<>();
    try (RunningService app =
        new RunningService(
            database,
            Map.of(
                "API_TOKEN", TOKEN,
                "SCAN_RATE_LIMIT_PER_MINUTE", "1000000",
                "MAX_LIVE_CONNECTIONS", "100000",
                "MAX_LIVE_CONNECTIONS_PER_CLIENT", "100000"))) {
      String scanId = app.createScanWithToken("fuzzed.example", TOKEN);
      long started = System.nanoTime();
      for (int i = 0; i < REQUESTS && problems.size() < 20; i++) {
        String method = method(random);
        String target = path(random, scanId) + query(random);
        Map<String, String> headers = headers(random, app.service.port(), method);
        String body = method.equals("GET") || method.equals("HEAD") ? null : body(random);
        String request = method + " " + abbreviate(target) + " " + headers + " " + abbreviate(body);
        RawHttp.Response answer;
        try {
          answer = send(app.service.port(), method, target, headers, body);
        } catch (Exception e) {
          problems.add("no answer (" + e.getMessage() + ") to " + request);
          continue;
        }
        statuses.merge(answer.status(), 1, Integer::sum);
        String problem = problem(method, answer);
        if (problem != null) {
          problems.add(problem + ": " + abbreviate(answer.toString()) + " for " + request);
        }
      }
      System.out.printf(
          "fuzz: %d requests (seed %d) in %d ms, statuses %s%n",
          REQUESTS, seed, (System.nanoTime() - started) / 1_000_000, statuses);
      assertThat(problems).as("seed " + seed).isEmpty();

      Map<String, String> auth = Map.of("Authorization", "Bearer " + TOKEN);
      RawHttp.request(
          app.service.port(),
          "POST",
          "/api/simulation/stop",
          Map.of("Authorization", "Bearer " + TOKEN, "Content-Type", "application/json"),
          "{}");
      assertThat(RawHttp.request(app.service.port(), "GET", "/health", auth, null).status())
          .isEqualTo(200);
      assertThat(RawHttp.request(app.service.port(), "GET", "/ready", auth, null).status())
          .isEqualTo(200);
      app.awaitStatus(app.createScanWithToken("after-fuzz.example", TOKEN), "COMPLETED");
    }
  }

  /** What is wrong with an answer, or null. */
  private static String problem(String method, RawHttp.Response answer) {
    if (answer.status() >= 500) {
      return "a server error";
    }
    if (answer.status() < 400 || method.equals("HEAD")) {
      return null;
    }
    if (!answer.isJson()) {
      return "an error that is not JSON";
    }
    var error = answer.json().path("error");
    if (error.path("code").asText().isBlank() || error.path("message").asText().isBlank()) {
      return "an error without code or message";
    }
    if (INTERNALS.matcher(error.path("message").asText()).find()) {
      return "an error naming internals";
    }
    return null;
  }

  private static RawHttp.Response send(
      int port, String method, String target, Map<String, String> headers, String body)
      throws Exception {
    StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
    headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    if (body != null) {
      head.append("Content-Length: ").append(bytes.length).append("\r\n");
    }
    head.append("Connection: close\r\n\r\n");
    // Request lines and headers are bytes on the wire: non-ASCII goes out as UTF-8.
    String text = head.toString();
    return RawHttp.send(
        port,
        new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1),
        bytes);
  }

  private static String method(Random random) {
    int roll = random.nextInt(100);
    if (roll < 40) {
      return "GET";
    }
    if (roll < 85) {
      return "POST";
    }
    return pick(random, List.of("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "BREW"));
  }

  private static String path(Random random, String scanId) {
    if (random.nextInt(100) < 15) {
      StringBuilder path = new StringBuilder();
      int segments = 1 + random.nextInt(4);
      for (int i = 0; i < segments; i++) {
        path.append('/')
            .append(
                pick(
                    random,
                    List.of(
                        "api",
                        "..",
                        ".",
                        "",
                        "%2F",
                        "%00",
                        "scans",
                        "%C3%28",
                        "%zz",
                        "é",
                        "a;b",
                        "~x",
                        "%2e%2e",
                        "x".repeat(300))));
      }
      return path.toString();
    }
    String route = pick(random, ROUTES);
    return route
        .replace("{id}", random.nextBoolean() ? scanId : pick(random, RAW_VALUES))
        .replace("{n}", pick(random, List.of("1", "0", "-1", "99999999999999999999", "abc", "%00")))
        .replace(
            "{x}",
            pick(
                random,
                List.of(
                    "scan-read-models",
                    "nope",
                    "scan-" + scanId,
                    "%00",
                    "a%2Fb",
                    "x".repeat(500),
                    "B%C3%BCcher.example")));
  }

  private static String query(Random random) {
    if (random.nextBoolean()) {
      return "";
    }
    StringBuilder query = new StringBuilder();
    int count = 1 + random.nextInt(3);
    for (int i = 0; i < count; i++) {
      query.append(i == 0 ? '?' : '&');
      query.append(random.nextInt(10) == 0 ? pick(random, RAW_VALUES) : pick(random, PARAMETERS));
      query.append('=').append(pick(random, RAW_VALUES));
    }
    return query.toString();
  }

  private static Map<String, String> headers(Random random, int port, String method) {
    Map<String, String> headers = new LinkedHashMap<>();
    int host = random.nextInt(100);
    if (host < 85) {
      headers.put("Host", "127.0.0.1:" + port);
    } else if (host < 92) {
      headers.put(
          "Host",
          pick(random, List.of("attacker.example", "localhost:1", "[::1]", "", "a b", "%00")));
    }
    if (random.nextInt(100) < 60) {
      headers.put("Authorization", "Bearer " + TOKEN);
    } else if (random.nextInt(100) < 20) {
      headers.put(
          "Authorization",
          pick(random, List.of("Bearer", "Bearer x", "Basic abc", "Bearer " + TOKEN + TOKEN)));
    }
    if (!method.equals("GET") && random.nextInt(100) < 75) {
      headers.put("Content-Type", "application/json");
    } else if (random.nextInt(100) < 30) {
      headers.put(
          "Content-Type",
          pick(
              random,
              List.of(
                  "text/plain",
                  "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x",
                  "application/json; charset=latin1",
                  "application/jsonx",
                  "")));
    }
    if (random.nextInt(100) < 30) {
      headers.put("Accept", "text/event-stream");
    }
    if (random.nextInt(100) < 10) {
      headers.put(
          "Origin",
          pick(
              random,
              List.of("http://evil.example", "null", "http://127.0.0.1:" + port, "garbage")));
    }
    if (random.nextInt(100) < 10) {
      headers.put("Last-Event-ID", pick(random, RAW_VALUES));
    }
    if (random.nextInt(100) < 5) {
      headers.put("X-Fuzz", "v".repeat(random.nextInt(12_000)));
    }
    return headers;
  }

  private static String body(Random random) {
    int roll = random.nextInt(100);
    if (roll < 5) {
      return "";
    }
    if (roll < 10) {
      return pick(
          random,
          List.of("null", "[]", "{", "}", "\"x\"", "1", "{\"target\":", "\u0000", "{\"a\":1}{}"));
    }
    if (roll < 15) {
      int depth = 100 + random.nextInt(5_000);
      return (random.nextBoolean()
          ? "[".repeat(depth) + "]".repeat(depth)
          : "{\"target\":" + "{\"a\":".repeat(depth) + "1" + "}".repeat(depth + 1));
    }
    StringBuilder object = new StringBuilder("{");
    int fields = random.nextInt(4);
    for (int i = 0; i < fields; i++) {
      if (i > 0) {
        object.append(',');
      }
      object.append('"').append(pick(random, FIELDS)).append("\":").append(value(random, 0));
    }
    return object.append('}').toString();
  }

  private static String value(Random random, int depth) {
    return switch (random.nextInt(depth > 2 ? 4 : 6)) {
      case 0 -> Json.write(pick(random, TEXTS));
      case 1 -> pick(random, NUMBERS);
      case 2 -> random.nextBoolean() ? "true" : "false";
      case 3 -> "null";
      case 4 -> "[" + value(random, depth + 1) + "," + value(random, depth + 1) + "]";
      default -> "{\"" + pick(random, FIELDS) + "\":" + value(random, depth + 1) + "}";
    };
  }

  private static <T> T pick(Random random, List<T> values) {
    return values.get(random.nextInt(values.size()));
  }

  private static String abbreviate(String text) {
    return text == null || text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }
}
