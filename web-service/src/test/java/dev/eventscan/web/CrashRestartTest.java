package dev.eventscan.web;

import dev.eventscan.testsupport.ServiceProcess;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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
    Map<String, String> env = Map.of("DATA_DIR", dataDir.toString());

    String scanId;
    ServiceProcess first = ServiceProcess.start(dataDir, "service", Main.class.getName(), env);
    try {
      scanId =
          RunningService.createScanAt(
              first.url(), "{\"target\":\"crash.example\",\"maxRetries\":10}");
      Thread.sleep(300); // the simulated scanner takes 150 ms a step: kill it mid-scan
    } finally {
      first.kill();
    }

    try (ServiceProcess second =
        ServiceProcess.start(dataDir, "service", Main.class.getName(), env)) {
      RunningService.await(
          "the interrupted scan completed",
          () -> {
            try {
              HttpResponse<String> scan =
                  RunningService.HTTP.send(
                      HttpRequest.newBuilder(URI.create(second.url() + "/api/scans/" + scanId))
                          .build(),
                      HttpResponse.BodyHandlers.ofString());
              return Json.tree(scan.body()).path("status").asText().equals("COMPLETED");
            } catch (Exception e) {
              return false;
            }
          });
    }
  }
}
