package dev.eventscan.bench;

import dev.eventscan.web.Service;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code POST /api/scans} with 32 concurrent clients, 5 s a run, against the same clients hitting
 * {@code GET /health} (the HTTP stack's own limit on this machine).
 */
final class HttpCreateScanScenario extends RatioScenario {
  private static final int CLIENTS = 32;
  private static final Duration RUN_TIME = Duration.ofSeconds(5);
  private Service service;
  private String url;

  /** CPU used during each contender's timed runs, and the requests they made. */
  private final Map<String, CpuTally> cpu = new LinkedHashMap<>();

  private Optional<CpuMeter> meter = Optional.empty();

  /** JVM (the service and the 32 clients) and PostgreSQL seconds, and requests, summed. */
  private static final class CpuTally {
    double jvmSeconds;
    double postgresSeconds;
    double requests;
  }

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
    meter = CpuMeter.of(database.ours());
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    try {
      String result = super.run(database);
      StatementStats.print(database.ours(), name(), "POST", scansRequested(database));
      cpu.forEach(
          (contender, used) ->
              System.out.printf(
                  Locale.ROOT,
                  "# %s: %s CPU per request %.2f ms (JVM with the clients %.2f, PostgreSQL %.2f)%n",
                  name(),
                  contender,
                  (used.jvmSeconds + used.postgresSeconds) * 1000 / used.requests,
                  used.jvmSeconds * 1000 / used.requests,
                  used.postgresSeconds * 1000 / used.requests));
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

  /**
   * A timed run with the CPU it used: background work that the POSTs cause (subscriptions, the
   * pipeline) and that outlasts their run lands in whichever run comes next.
   */
  private Measurement metered(String contender, Callable<Measurement> run) throws Exception {
    Optional<CpuMeter.Reading> before = meter.map(CpuMeter::read);
    Measurement measured = run.call();
    if (meter.isPresent()) {
      CpuMeter.Reading used = meter.get().read().minus(before.orElseThrow());
      CpuTally tally = cpu.computeIfAbsent(contender, c -> new CpuTally());
      tally.jvmSeconds += used.jvmSeconds();
      tally.postgresSeconds += used.postgresSeconds();
      tally.requests += measured.perSecond() * RUN_TIME.toMillis() / 1000.0;
    }
    return measured;
  }

  /** The warm-up's scans give the service's tables statistics to plan the timed runs with. */
  @Override
  void warmedUp(BenchmarkDatabase database) throws Exception {
    database.analyze();
  }

  @Override
  Measurement runOurs(BenchmarkDatabase database) throws Exception {
    return metered("POST /api/scans", this::createScans);
  }

  @Override
  Measurement runLimit(BenchmarkDatabase database) throws Exception {
    return metered("GET /health", this::health);
  }

  private Measurement createScans() throws Exception {
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

  private Measurement health() throws Exception {
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
