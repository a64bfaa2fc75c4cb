package dev.eventscan.bench;

import dev.eventscan.web.Service;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * {@code POST /api/scans} with 32 concurrent clients, 5 s a run, against the same clients hitting
 * {@code GET /health} (the HTTP stack's own limit on this machine).
 */
final class HttpCreateScanScenario extends RatioScenario {
  private static final int CLIENTS = 32;
  private static final Duration RUN_TIME = Duration.ofSeconds(5);
  private Service service;
  private String url;

  @Override
  public String name() {
    return "http-create-scan";
  }

  @Override
  public void prepare(BenchmarkDatabase database) throws Exception {
    service = ServiceScenarios.start(database, Map.of("WORKER_POOL_SIZE", "8"));
    url = "http://127.0.0.1:" + service.port();
    ServiceScenarios.awaitReady(service.port());
    StatementStats.reset(database.ours());
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    try {
      String result = super.run(database);
      StatementStats.print(database.ours(), name(), "POST", scansRequested(database));
      return result;
    } finally {
      service.close();
    }
  }

  /** From the events: the read model may lag behind the requests. */
  private static long scansRequested(BenchmarkDatabase database) throws Exception {
    try (java.sql.Connection c = database.ours().getConnection();
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet r =
            s.executeQuery(
                "SELECT count(*) FROM event_store.events WHERE type = 'ScanRequested'")) {
      r.next();
      return Math.max(1, r.getLong(1));
    }
  }

  @Override
  Measurement runOurs(BenchmarkDatabase database) throws Exception {
    return Throughput.measure(
        CLIENTS,
        RUN_TIME,
        thread ->
            iteration -> {
              HttpResponse<Void> response =
                  ServiceScenarios.HTTP.send(
                      HttpRequest.newBuilder(URI.create(url + "/api/scans"))
                          .header("Content-Type", "application/json")
                          .POST(
                              HttpRequest.BodyPublishers.ofString(
                                  "{\"target\":\"http" + thread + "x" + iteration + ".example\"}"))
                          .build(),
                      HttpResponse.BodyHandlers.discarding());
              if (response.statusCode() != 202) {
                throw new IllegalStateException(
                    "POST /api/scans answered " + response.statusCode());
              }
              return 1;
            });
  }

  @Override
  Measurement runLimit(BenchmarkDatabase database) throws Exception {
    return Throughput.measure(
        CLIENTS,
        RUN_TIME,
        thread ->
            iteration -> {
              ServiceScenarios.HTTP.send(
                  HttpRequest.newBuilder(URI.create(url + "/health")).build(),
                  HttpResponse.BodyHandlers.discarding());
              return 1;
            });
  }
}
