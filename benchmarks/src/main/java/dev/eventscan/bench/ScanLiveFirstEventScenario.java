package dev.eventscan.bench;

import dev.eventscan.web.Service;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Time to the first event of a scan page's stream, {@code GET /api/scans/{id}/live?from=0-0}, with
 * {@value #LOG_EVENTS} other events in the log: from sending the request to the first {@code data:}
 * line, for {@value #SCANS} fresh scans one after another (each opened once, then closed), after a
 * few unmeasured ones. The service starts on that log with no checkpoints: its subscriptions (read
 * models, statistics) first catch up with the million events, a one-time rebuild that would
 * otherwise share the two cores with the first opens; the scenario waits for it and says how long
 * it took.
 */
final class ScanLiveFirstEventScenario implements Scenario {
  private static final int LOG_EVENTS = 1_000_000;
  private static final int SCANS = 50;

  /** Opens before the measured ones (-Dscan.live.warmup): a running service, not a cold JIT. */
  private static final int WARM_UP_SCANS = Integer.getInteger("scan.live.warmup", 5);

  @Override
  public String name() {
    return "scan-live-first-event";
  }

  @Override
  public void prepare(BenchmarkDatabase database) throws Exception {
    LogFill.fill(database.store(), LOG_EVENTS);
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    try (Service service = ServiceScenarios.start(database, Map.of())) {
      String base = "http://127.0.0.1:" + service.port();
      awaitCaughtUp(base);
      for (int i = 0; i < WARM_UP_SCANS; i++) {
        firstEvent(base, "warm" + i);
      }
      double[] millis = new double[SCANS];
      double[] headersMillis = new double[SCANS];
      for (int i = 0; i < SCANS; i++) {
        double[] times = firstEvent(base, "first" + i);
        headersMillis[i] = times[0];
        millis[i] = times[1];
      }
      System.out.println("# " + name() + " in order (ms): " + joined(millis));
      System.out.println(
          "# " + name() + " of which to the response headers (ms): " + joined(headersMillis));
      Arrays.sort(millis);
      return String.format(
          Locale.ROOT,
          "log_events=%d scans=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f",
          LOG_EVENTS,
          SCANS,
          Measurement.percentile(millis, 0.50),
          Measurement.percentile(millis, 0.99),
          millis[millis.length - 1]);
    }
  }

  /** Waits (at most 3 min) until every subscription of the service is caught up with the log. */
  private void awaitCaughtUp(String base) throws Exception {
    long start = System.nanoTime();
    long deadline = start + Duration.ofMinutes(3).toNanos();
    Pattern maxLag = Pattern.compile("\"maxLag\"\\s*:\\s*(\\d+)");
    long largest = -1;
    long atStart = -1;
    while (System.nanoTime() < deadline) {
      String body =
          ServiceScenarios.HTTP
              .send(
                  HttpRequest.newBuilder(URI.create(base + "/api/subscriptions")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      Matcher lag = maxLag.matcher(body);
      largest = -1;
      while (lag.find()) {
        largest = Math.max(largest, Long.parseLong(lag.group(1)));
      }
      atStart = atStart < 0 ? largest : atStart;
      if (largest == 0) {
        break;
      }
      Thread.sleep(200);
    }
    System.out.printf(
        Locale.ROOT,
        "# %s: the service's subscriptions caught up in %.1f s (largest lag at start %d, now %d)%n",
        name(),
        (System.nanoTime() - start) / 1e9,
        atStart,
        largest);
  }

  /**
   * Creates a scan and opens its stream: ms from the request to the response headers, and to the
   * first {@code data:} line.
   */
  private static double[] firstEvent(String base, String target) throws Exception {
    String scanId = createScan(base, target);
    HttpRequest live =
        HttpRequest.newBuilder(URI.create(base + "/api/scans/" + scanId + "/live?from=0-0"))
            .header("Accept", "text/event-stream")
            .build();
    long start = System.nanoTime();
    HttpResponse<InputStream> response =
        ServiceScenarios.HTTP.send(live, HttpResponse.BodyHandlers.ofInputStream());
    double headers = (System.nanoTime() - start) / 1e6;
    try (InputStream body = response.body();
        BufferedReader lines =
            new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null && !line.startsWith("data:")) {
        // headers of the frame (id:, event:) or a comment
      }
      if (line == null) {
        throw new IllegalStateException("scan stream ended before its first event");
      }
      return new double[] {headers, (System.nanoTime() - start) / 1e6};
    }
  }

  private static String joined(double[] millis) {
    return Arrays.stream(millis)
        .mapToObj(ms -> String.format(Locale.ROOT, "%.0f", ms))
        .collect(java.util.stream.Collectors.joining(" "));
  }

  private static String createScan(String base, String target) throws Exception {
    HttpResponse<String> created =
        ServiceScenarios.HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/api/scans"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString("{\"target\":\"" + target + ".example\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (created.statusCode() != 202) {
      throw new IllegalStateException("POST /api/scans answered " + created.statusCode());
    }
    Matcher id = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"").matcher(created.body());
    if (!id.find()) {
      throw new IllegalStateException("no scan id in " + created.body());
    }
    return id.group(1);
  }
}
