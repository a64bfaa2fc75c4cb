package dev.eventscan.bench;

import dev.eventscan.web.Service;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Time to the first event of a scan page's stream, {@code GET /api/scans/{id}/live?from=0-0}, with
 * {@value #LOG_EVENTS} other events in the log: from sending the request to the first {@code data:}
 * line, for {@value #SCANS} fresh scans one after another (each opened once, then closed).
 */
final class ScanLiveFirstEventScenario implements Scenario {
  private static final int LOG_EVENTS = 1_000_000;
  private static final int SCANS = 50;

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
      double[] millis = new double[SCANS];
      for (int i = 0; i < SCANS; i++) {
        String scanId = createScan(base, i);
        HttpRequest live =
            HttpRequest.newBuilder(URI.create(base + "/api/scans/" + scanId + "/live?from=0-0"))
                .header("Accept", "text/event-stream")
                .build();
        long start = System.nanoTime();
        HttpResponse<InputStream> response =
            ServiceScenarios.HTTP.send(live, HttpResponse.BodyHandlers.ofInputStream());
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
          millis[i] = (System.nanoTime() - start) / 1e6;
        }
      }
      System.out.println(
          "# "
              + name()
              + " in order (ms): "
              + Arrays.stream(millis)
                  .mapToObj(ms -> String.format(Locale.ROOT, "%.0f", ms))
                  .collect(java.util.stream.Collectors.joining(" ")));
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

  private static String createScan(String base, int n) throws Exception {
    HttpResponse<String> created =
        ServiceScenarios.HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/api/scans"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString("{\"target\":\"first" + n + ".example\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (created.statusCode() != 202) {
      throw new IllegalStateException("POST /api/scans answered " + created.statusCode());
    }
    java.util.regex.Matcher id =
        java.util.regex.Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"").matcher(created.body());
    if (!id.find()) {
      throw new IllegalStateException("no scan id in " + created.body());
    }
    return id.group(1);
  }
}
