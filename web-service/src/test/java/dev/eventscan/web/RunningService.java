package dev.eventscan.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.global.GlobalLogPage;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.testsupport.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** The real service on a random loopback port, on the test class's database, and an HTTP client. */
final class RunningService implements AutoCloseable {
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  final Service service;
  final String url;
  final TestDatabase database;

  RunningService(TestDatabase database, Map<String, String> extraEnv) throws Exception {
    this.database = database;
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", database.jdbcUrl());
    env.put("PORT", "0");
    env.put("SSE_KEEPALIVE_SECONDS", "1");
    env.putAll(extraEnv);
    this.service = Service.start(Config.fromEnvironment(env));
    this.url = "http://127.0.0.1:" + service.port();
  }

  record Response(int status, String body, HttpResponse<String> raw) {
    JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    String errorCode() {
      return json().path("error").path("code").asText();
    }

    String errorMessage() {
      return json().path("error").path("message").asText();
    }
  }

  Response get(String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(url + path)).GET());
  }

  Response postJson(String path, String body) throws Exception {
    return send(
        HttpRequest.newBuilder(URI.create(url + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  /** A POST without a body, sent as JSON like every change must be. */
  Response post(String path) throws Exception {
    return send(
        HttpRequest.newBuilder(URI.create(url + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.noBody()));
  }

  Response send(HttpRequest.Builder request) throws Exception {
    HttpResponse<String> response =
        HTTP.send(
            request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    return new Response(response.statusCode(), response.body(), response);
  }

  /** POSTs a scan to any running service; returns its id. */
  static String createScanAt(String url, String body) throws Exception {
    return createScanAt(url, body, null);
  }

  /** POSTs a scan to any running service, with the API token if not null; returns its id. */
  static String createScanAt(String url, String body, String token) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url + "/api/scans"))
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> created = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    if (created.statusCode() != 202) {
      throw new AssertionError("scan not created: " + created.body());
    }
    return Json.tree(created.body()).get("id").asText();
  }

  String createScan(String target) throws Exception {
    Response created = postJson("/api/scans", "{\"target\":\"" + target + "\"}");
    if (created.status() != 202) {
      throw new AssertionError("scan not created: " + created.body());
    }
    return created.json().get("id").asText();
  }

  /** Creates a scan on a service that requires {@code token}; returns its id. */
  String createScanWithToken(String target, String token) throws Exception {
    Response created =
        send(
            HttpRequest.newBuilder(URI.create(url + "/api/scans"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString("{\"target\":\"" + target + "\"}")));
    if (created.status() != 202) {
      throw new AssertionError("scan not created: " + created.body());
    }
    return created.json().get("id").asText();
  }

  void awaitStatus(String scanId, String status) throws Exception {
    await(
        "scan " + scanId + " " + status,
        () -> {
          try {
            return status.equals(get("/api/scans/" + scanId).json().path("status").asText());
          } catch (Exception e) {
            return false;
          }
        });
  }

  /**
   * The positions (as SSE ids) of the events matching {@code filter}, in global order, once all
   * {@code count} of them are visible to global readers.
   */
  List<String> logIds(EventFilter filter, int count, Duration timeout) {
    List<String> ids = new ArrayList<>();
    await(
        count + " events visible",
        timeout,
        () -> {
          ids.clear();
          Position cursor = Position.START;
          GlobalLogPage page;
          do {
            page = service.store().readAll(cursor, filter, 1_000);
            page.events().forEach(event -> ids.add(event.position().toString()));
            cursor = page.next();
          } while (!page.endOfLog());
          return ids.size() == count;
        });
    return List.copyOf(ids);
  }

  static void await(String what, BooleanSupplier condition) {
    await(what, Duration.ofSeconds(60), condition);
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    service.close();
  }
}
