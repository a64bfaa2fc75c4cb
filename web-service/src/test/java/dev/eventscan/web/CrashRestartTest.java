package dev.eventscan.web;

import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The service process killed with SIGKILL mid-scan, then started again on the same data directory:
 * the scan completes. The service runs as a real child JVM (the same classes the jar holds) with
 * its embedded PostgreSQL.
 */
class CrashRestartTest {
  @Test
  void a_scan_interrupted_by_sigkill_completes_after_a_restart() throws Exception {
    Path dataDir = Files.createTempDirectory("eventscan-crash");
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port;

    Process first = startService(dataDir, port);
    String scanId;
    try {
      awaitHealthy(url);
      scanId = RunningService.createScanAt(url, "{\"target\":\"crash.example\",\"maxRetries\":10}");
      Thread.sleep(300); // the simulated scanner takes 150 ms a step: kill it mid-scan
    } finally {
      first.destroyForcibly(); // SIGKILL: no shutdown hook runs
      first.waitFor(30, TimeUnit.SECONDS);
    }

    Process second = startService(dataDir, port);
    try {
      awaitHealthy(url);
      RunningService.await(
          "the interrupted scan completed",
          () -> {
            try {
              HttpResponse<String> scan =
                  RunningService.HTTP.send(
                      HttpRequest.newBuilder(URI.create(url + "/api/scans/" + scanId)).build(),
                      HttpResponse.BodyHandlers.ofString());
              return Json.tree(scan.body()).path("status").asText().equals("COMPLETED");
            } catch (Exception e) {
              return false;
            }
          });
    } finally {
      second.destroy(); // SIGTERM: graceful, stops its PostgreSQL
      second.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private static Process startService(Path dataDir, int port) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(
            List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    builder.environment().put("PORT", Integer.toString(port));
    builder.environment().put("DATA_DIR", dataDir.toString());
    builder.environment().remove("DATABASE_URL");
    builder.redirectErrorStream(true);
    builder.redirectOutput(new File(dataDir.toFile(), "service-" + System.nanoTime() + ".log"));
    return builder.start();
  }

  private static void awaitHealthy(String url) {
    RunningService.await(
        "service healthy",
        () -> {
          try {
            return RunningService.HTTP
                    .send(
                        HttpRequest.newBuilder(URI.create(url + "/ready")).build(),
                        HttpResponse.BodyHandlers.ofString())
                    .statusCode()
                == 200;
          } catch (Exception e) {
            return false;
          }
        });
  }
}
