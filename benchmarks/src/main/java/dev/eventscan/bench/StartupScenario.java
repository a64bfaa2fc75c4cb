package dev.eventscan.bench;

import dev.eventscan.web.Service;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Start-up to ready with the embedded PostgreSQL: cold (a fresh data directory, so initdb and all
 * migrations run) and warm (the same directory again). Goal: cold < 5 s.
 */
final class StartupScenario implements Scenario {
  @Override
  public String name() {
    return "startup";
  }

  @Override
  public String run(BenchmarkDatabase unused) throws Exception {
    Path dataDir = ServiceScenarios.tempDir("eventscan-startup");
    double cold = startToReady(dataDir);
    double warm = startToReady(dataDir);
    return String.format(Locale.ROOT, "cold_ms=%.0f warm_ms=%.0f", cold, warm);
  }

  private static double startToReady(Path dataDir) throws Exception {
    long start = System.nanoTime();
    try (Service service = ServiceScenarios.start(null, Map.of("DATA_DIR", dataDir.toString()))) {
      ServiceScenarios.awaitReady(service.port());
      return (System.nanoTime() - start) / 1e6;
    }
  }
}
