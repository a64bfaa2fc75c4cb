package dev.eventscan.bench;

import dev.eventscan.eventstore.stream.EventData;
import dev.eventscan.eventstore.stream.ExpectedVersion;
import dev.eventscan.scan.ScanModule;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.scanner.SimulatedScanner;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * 1,000 scans through the whole pipeline (aggregate, process manager, read-model projection),
 * simulated scanner at zero latency and no failures: scans/s and events/s, and events/s as a ratio
 * of the library's own batched-append rate measured in the same run.
 */
final class ScanPipelineScenario implements Scenario {
  private static final int SCANS = 1_000;

  @Override
  public String name() {
    return "scan-pipeline";
  }

  @Override
  public String run(BenchmarkDatabase database) throws Exception {
    double batchedLimit = batchedAppendRate(database);
    long eventsBefore = database.store().headPosition().eventId();
    try (ScanModule module =
        ScanModule.start(
            database.store(),
            new ScanModule.Settings(
                "scan",
                Map.of("simulated", new SimulatedScanner(1, Duration.ZERO, 0)),
                "simulated",
                3,
                new ProcessSettings(
                    8, Duration.ofSeconds(30), Duration.ofMillis(10), Duration.ofMillis(100)),
                Duration.ofMillis(100)),
            Clock.systemUTC())) {
      long start = System.nanoTime();
      List<String> ids = new ArrayList<>(SCANS);
      for (int i = 0; i < SCANS; i++) {
        ids.add(module.requestScan("pipeline" + i + ".example", null, null));
      }
      for (String id : ids) {
        while (!module.queries().get(id).map(s -> s.status().equals("COMPLETED")).orElse(false)) {
          Thread.sleep(5);
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long events = database.store().headPosition().eventId() - eventsBefore;
      double eventsPerSecond = events / seconds;
      System.out.printf(
          Locale.ROOT,
          "# %s: %d scans, %d events in %.1f s; batched-append limit %.0f events/s%n",
          name(),
          SCANS,
          events,
          seconds,
          batchedLimit);
      return String.format(
          Locale.ROOT,
          "scans_per_s=%.1f events_per_s=%.0f ratio=%.3f",
          SCANS / seconds,
          eventsPerSecond,
          eventsPerSecond / batchedLimit);
    }
  }

  /** The library's batched appends (100 events a call), for 5 s: the limit the pipeline uses. */
  private static double batchedAppendRate(BenchmarkDatabase database) throws Exception {
    return Throughput.measure(
            1,
            Duration.ofSeconds(5),
            thread -> {
              String streamId = "limit-" + UUID.randomUUID();
              return iteration -> {
                List<EventData> batch = new ArrayList<>(100);
                for (int i = 0; i < 100; i++) {
                  batch.add(Payloads.event());
                }
                database.store().append(streamId, ExpectedVersion.exactly(iteration * 100), batch);
                return 100;
              };
            })
        .perSecond();
  }
}
