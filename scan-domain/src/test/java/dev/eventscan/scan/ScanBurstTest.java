package dev.eventscan.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.scanner.SimulatedScanner;
import dev.eventscan.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The service-level burst from issue 10: far more scans than workers, a step timeout shorter than
 * the wait in the queue, and appends that fail now and then. Every scan must still finish.
 */
@ExtendWith(PostgresExtension.class)
class ScanBurstTest {
  private static final int SCANS = 300;
  private static final Duration BOUND = Duration.ofSeconds(60);
  private final TestModules modules = new TestModules();

  @AfterEach
  void stopModules() {
    modules.close();
  }

  @Test
  void a_burst_of_300_scans_on_2_workers_with_failing_appends_all_complete_or_fail(
      DataSource dataSource) {
    EventStore store = EventStore.builder(dataSource).build();
    RecordingFaults faults = RecordingFaults.install(dataSource, store.schema());
    ScanModule module =
        modules.start(
            store,
            Map.of("simulated", new SimulatedScanner(11, Duration.ofMillis(10), 0.05)),
            "simulated",
            new ProcessSettings(
                2,
                Duration.ofMillis(300),
                Duration.ofMillis(10),
                Duration.ofMillis(100),
                64, // ~0.5 s of work queued: longer than the step timeout
                Duration.ofMillis(250)));
    faults.fail(
        0.05,
        SCANS,
        "DomainDiscoveryStarted",
        "DomainsDiscovered",
        "SubdomainDiscoveryStarted",
        "SubdomainsDiscovered",
        "StepAttemptFailed");
    long started = System.nanoTime();
    long injected;
    try {
      for (int i = 0; i < SCANS; i++) {
        module.requestScan("burst" + i + ".example", null, 2);
      }
      Eventually.until(
          "every scan completed or failed",
          BOUND,
          () -> {
            Map<String, Long> statuses = statuses(dataSource);
            return statuses.getOrDefault("COMPLETED", 0L) + statuses.getOrDefault("FAILED", 0L)
                == SCANS;
          });
    } finally {
      injected = faults.injected();
      faults.stop();
    }
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    Eventually.until(
        "nothing queued or in flight",
        BOUND,
        () -> module.processManager().queued() == 0 && module.processManager().inFlight() == 0);

    Map<String, Long> statuses = statuses(dataSource);
    System.out.printf(
        "burst: %d scans on 2 workers finished in %d ms: %s; %d appends failed on purpose%n",
        SCANS, took.toMillis(), statuses, injected);
    assertThat(statuses.keySet()).isSubsetOf("COMPLETED", "FAILED");
    assertThat(injected).isPositive();
  }

  private static Map<String, Long> statuses(DataSource dataSource) {
    try (Connection c = dataSource.getConnection();
        Statement select = c.createStatement();
        ResultSet rows =
            select.executeQuery(
                "SELECT status, count(*) FROM %s.scan_summaries GROUP BY status"
                    .formatted(TestModules.SCHEMA))) {
      Map<String, Long> counts = new TreeMap<>();
      while (rows.next()) {
        counts.put(rows.getString(1), rows.getLong(2));
      }
      return counts;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
