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

  @Test
  void redelivered_old_events_neither_move_a_completed_scan_back_nor_count_twice(
      DataSource dataSource) throws Exception {
    EventStore store = EventStore.builder(dataSource).build();
    ScanModule module =
        modules.start(
            store,
            Map.of("scripted", scripted),
            "scripted",
            new ProcessSettings(
                2, Duration.ofSeconds(5), Duration.ofMillis(10), Duration.ofMillis(50)));
    scripted.failFor("redelivery.example", 1);
    String scanId = module.requestScan("redelivery.example", "scripted", 3);
    Eventually.until(
        "completed",
        Duration.ofSeconds(30),
        () -> TestModules.status(module, scanId).equals("COMPLETED"));
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
}
