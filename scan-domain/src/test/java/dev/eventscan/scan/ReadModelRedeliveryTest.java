package dev.eventscan.scan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.lifecycle.ScanEvent;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.readmodel.DomainProgress;
import dev.eventscan.scan.readmodel.ScanReadModelProjection;
import dev.eventscan.scan.readmodel.ScanSummary;
import dev.eventscan.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A parked event retried late, or an event delivered twice, must not change the read models. */
@ExtendWith(PostgresExtension.class)
class ReadModelRedeliveryTest {
  private final ScriptedScanner scripted = new ScriptedScanner();
  private final TestModules modules = new TestModules();

  @AfterEach
  void stopModules() {
    modules.close();
  }

  private ScanModule startModule(EventStore store) {
    return modules.start(
        store,
        Map.of("scripted", scripted),
        "scripted",
        new ProcessSettings(
            2, Duration.ofSeconds(5), Duration.ofMillis(10), Duration.ofMillis(50)));
  }

  /** A scan whose first scanner call fails once, then completes. */
  private String completedScanWithOneFailure(ScanModule module, String target) {
    scripted.failFor(target, 1);
    String scanId = module.requestScan(target, "scripted", 3);
    Eventually.until(
        "completed",
        Duration.ofSeconds(30),
        () -> TestModules.status(module, scanId).equals("COMPLETED"));
    return scanId;
  }

  @Test
  void redelivered_old_events_neither_move_a_completed_scan_back_nor_count_twice(
      DataSource dataSource) throws Exception {
    ScanModule module = startModule(EventStore.builder(dataSource).build());
    String scanId = completedScanWithOneFailure(module, "redelivery.example");
    ScanSummary before = module.queries().get(scanId).orElseThrow();
    List<DomainProgress> domainsBefore = module.queries().domains(scanId);
    assertThat(before.failedAttempts()).isEqualTo(1);

    ScanReadModelProjection projection =
        new ScanReadModelProjection(TestModules.SCHEMA, module.scans()::deserialize);
    try (Connection tx = dataSource.getConnection()) {
      tx.setAutoCommit(false);
      for (RecordedEvent event : module.events(scanId)) {
        ScanEvent decoded = module.scans().deserialize(event);
        if (!(decoded instanceof ScanEvent.ScanCompleted)) {
          projection.project(event, tx);
        }
      }
      tx.commit();
    }

    assertThat(module.queries().get(scanId).orElseThrow()).isEqualTo(before);
    assertThat(module.queries().domains(scanId)).isEqualTo(domainsBefore);
  }

  @Test
  void a_scan_projected_in_one_batch_reads_the_same_as_projected_event_by_event(
      DataSource dataSource) throws Exception {
    ScanModule module = startModule(EventStore.builder(dataSource).build());
    String scanId = completedScanWithOneFailure(module, "batch.example");
    List<Object> live = readModels(module, scanId);
    List<RecordedEvent> events = module.events(scanId);
    ScanReadModelProjection projection =
        new ScanReadModelProjection(TestModules.SCHEMA, module.scans()::deserialize);

    reproject(dataSource, scanId, tx -> projection.projectBatch(events, tx));
    assertThat(readModels(module, scanId)).as("all events in one batch").isEqualTo(live);

    reproject(
        dataSource,
        scanId,
        tx -> {
          for (RecordedEvent event : events) {
            projection.project(event, tx);
          }
        });
    assertThat(readModels(module, scanId)).as("one event at a time").isEqualTo(live);
  }

  private static List<Object> readModels(ScanModule module, String scanId) {
    return List.of(
        module.queries().get(scanId).orElseThrow(),
        module.queries().domains(scanId),
        module.queries().findings(scanId));
  }

  @FunctionalInterface
  private interface Projecting {
    void run(Connection tx) throws Exception;
  }

  /** Empties the scan's read models and projects them again, in one transaction. */
  private static void reproject(DataSource dataSource, String scanId, Projecting projecting)
      throws Exception {
    try (Connection tx = dataSource.getConnection()) {
      tx.setAutoCommit(false);
      for (String table : List.of("scan_summaries", "scan_domains", "scan_findings")) {
        try (PreparedStatement delete =
            tx.prepareStatement(
                "DELETE FROM " + TestModules.SCHEMA + "." + table + " WHERE scan_id = ?")) {
          delete.setString(1, scanId);
          delete.executeUpdate();
        }
      }
      projecting.run(tx);
      tx.commit();
    }
  }
}
