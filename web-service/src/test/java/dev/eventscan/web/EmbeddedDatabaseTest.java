package dev.eventscan.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Without DATABASE_URL the service runs its own PostgreSQL, and its data outlives a restart. */
class EmbeddedDatabaseTest {
  @Test
  void scans_survive_a_restart_of_the_service_and_its_embedded_postgres() throws Exception {
    Path dataDir = Files.createTempDirectory("eventscan-data");
    Config config = Config.fromEnvironment(Map.of("PORT", "0", "DATA_DIR", dataDir.toString()));
    String scanId;
    try (Service first = Service.start(config)) {
      String url = "http://127.0.0.1:" + first.port();
      scanId = RunningService.createScanAt(url, "{\"target\":\"persist.example\"}");
    }

    try (Service second = Service.start(config)) {
      String url = "http://127.0.0.1:" + second.port();
      RunningService.await(
          "scan reloaded and finished",
          () -> {
            try {
              HttpResponse<String> scan =
                  RunningService.HTTP.send(
                      HttpRequest.newBuilder(URI.create(url + "/api/scans/" + scanId)).build(),
                      HttpResponse.BodyHandlers.ofString());
              return scan.statusCode() == 200
                  && Json.tree(scan.body()).get("status").asText().equals("COMPLETED");
            } catch (Exception e) {
              return false;
            }
          });
    }
    assertThat(dataDir.resolve("postgres").resolve("PG_VERSION")).exists();
  }
}
