package dev.eventscan.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.scan.lifecycle.InvalidScanCommandException;
import dev.eventscan.scan.lifecycle.InvalidScanTransitionException;
import dev.eventscan.scan.lifecycle.ScanEvent;
import dev.eventscan.scan.lifecycle.ScanEventTypes;
import dev.eventscan.scan.lifecycle.ScanNotFoundException;
import dev.eventscan.scan.process.ProcessSettings;
import dev.eventscan.scan.readmodel.ScanReadModelProjection;
import dev.eventscan.scan.readmodel.ScanSummary;
import dev.eventscan.scan.scanner.SimulatedScanner;
import dev.eventscan.scan.target.InvalidTargetException;
import dev.eventscan.testsupport.PostgresExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class ScanLifecycleTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static EventStore store;
  private final ScriptedScanner scripted = new ScriptedScanner();
  private final TestModules modules = new TestModules();

  @BeforeAll
  static void createStore(DataSource dataSource) {
    store = EventStore.builder(dataSource).build();
  }

  @AfterEach
  void stopModules() {
    modules.close();
  }

  private ScanModule startModule() {
    return modules.start(
        store,
        Map.of("simulated", new SimulatedScanner(42, Duration.ZERO, 0), "scripted", scripted),
        "simulated",
        new ProcessSettings(
            8, Duration.ofSeconds(5), Duration.ofMillis(10), Duration.ofMillis(50)));
  }

  private static void await(String what, BooleanSupplier condition) {
    Eventually.until(what, WAIT, condition);
  }

  private static String status(ScanModule module, String scanId) {
    return TestModules.status(module, scanId);
  }

  private static List<ScanEvent> events(ScanModule module, String scanId) {
    return module.events(scanId).stream().map(module.scans()::deserialize).toList();
  }

  @Test
  void a_scan_runs_through_every_step_to_a_scored_completion_and_the_read_models_agree() {
    ScanModule module = startModule();
    String scanId = module.requestScan("Example.COM", null, null);

    await("completed", () -> status(module, scanId).equals("COMPLETED"));

    List<ScanEvent> events = events(module, scanId);
    assertThat(events.get(0)).isInstanceOf(ScanEvent.ScanRequested.class);
    assertThat(events).last().isInstanceOf(ScanEvent.ScanCompleted.class);
    assertThat(module.events(scanId))
        .allSatisfy(e -> assertThat(e.metadata().correlationId()).isEqualTo(scanId));
    ScanSummary summary = module.queries().get(scanId).orElseThrow();
    long findings =
        events.stream()
            .filter(e -> e instanceof ScanEvent.SubdomainsDiscovered)
            .mapToLong(e -> ((ScanEvent.SubdomainsDiscovered) e).findings().size())
            .sum();
    assertThat(summary.target()).isEqualTo("example.com");
    assertThat(summary.progressPercent()).isEqualTo(100);
    assertThat(module.queries().findings(scanId)).hasSize((int) findings);
    assertThat(summary.domains()).isEqualTo(module.queries().domains(scanId).size());
    assertThat(summary.score())
        .isEqualTo(((ScanEvent.ScanCompleted) events.get(events.size() - 1)).score().score());
    assertThat(summary.completedAt()).isAfterOrEqualTo(summary.requestedAt());
    assertThat(module.queries().history("example.com", 50))
        .extracting(ScanSummary::scanId)
        .contains(scanId);
  }

  @Test
  void failed_attempts_are_retried_and_recorded_as_events() {
    ScanModule module = startModule();
    scripted.failFor("retry.example", 2);

    String scanId = module.requestScan("retry.example", "scripted", 3);
    await("completed", () -> status(module, scanId).equals("COMPLETED"));

    List<ScanEvent.StepAttemptFailed> failures =
        events(module, scanId).stream()
            .filter(e -> e instanceof ScanEvent.StepAttemptFailed)
            .map(e -> (ScanEvent.StepAttemptFailed) e)
            .toList();
    assertThat(failures).hasSize(2);
    assertThat(failures).extracting(ScanEvent.StepAttemptFailed::attempt).containsExactly(1, 2);
    assertThat(failures)
        .allSatisfy(
            f -> {
              assertThat(f.error()).contains("scripted failure");
              assertThat(f.nextRetryAt()).isNotNull();
            });
    assertThat(module.queries().get(scanId).orElseThrow().failedAttempts()).isEqualTo(2);
  }

  @Test
  void exhausting_the_retries_fails_the_scan_with_the_step_and_reason() {
    ScanModule module = startModule();
    scripted.failFor("doomed.example", 100);

    String scanId = module.requestScan("doomed.example", "scripted", 1);
    await("failed", () -> status(module, scanId).equals("FAILED"));

    ScanSummary summary = module.queries().get(scanId).orElseThrow();
    assertThat(summary.failureReason())
        .contains("domain discovery")
        .contains("after 2 attempts")
        .contains("scripted failure");
    assertThat(events(module, scanId))
        .last()
        .isInstanceOfSatisfying(
            ScanEvent.ScanFailed.class,
            f ->
                assertThat(f.step())
                    .isEqualTo(dev.eventscan.scan.lifecycle.ScanStep.DOMAIN_DISCOVERY));
  }

  @Test
  void a_cancelled_scan_ignores_results_that_arrive_later() {
    ScanModule module = startModule();
    scripted.gate = new CountDownLatch(1);
    String scanId = module.requestScan("cancel.example", "scripted", 3);
    await("scanner called", () -> scripted.calls.get() > 0);

    module.cancel(scanId, "changed my mind");
    scripted.gate.countDown();
    await("cancelled", () -> status(module, scanId).equals("CANCELLED"));
    await("scanner finished", () -> module.processManager().inFlight() == 0);

    List<ScanEvent> events = events(module, scanId);
    assertThat(events).last().isInstanceOf(ScanEvent.ScanCancelled.class);
    assertThat(events).noneMatch(e -> e instanceof ScanEvent.DomainsDiscovered);
    assertThat(module.queries().get(scanId).orElseThrow().failureReason())
        .isEqualTo("changed my mind");
    module.cancel(scanId, "again"); // cancelling a cancelled scan changes nothing
  }

  @Test
  void a_restarted_process_manager_finishes_every_scan_without_duplicate_findings() {
    ScanModule first = startModule();
    scripted.latency = Duration.ofMillis(300);
    List<String> scanIds = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      scanIds.add(first.requestScan("restart" + i + ".example", "scripted", 3));
    }
    await(
        "steps in flight",
        () -> first.processManager().inFlight() > 0 && scripted.calls.get() >= 5);
    modules.stop(first);

    scripted.latency = Duration.ZERO;
    ScanModule second = startModule();
    for (String scanId : scanIds) {
      await("scan " + scanId + " completed", () -> status(second, scanId).equals("COMPLETED"));
    }

    for (String scanId : scanIds) {
      List<ScanEvent> events = events(second, scanId);
      Set<String> discovered = new HashSet<>();
      for (ScanEvent event : events) {
        if (event instanceof ScanEvent.SubdomainsDiscovered found) {
          assertThat(discovered.add(found.domain())).as("one result per domain").isTrue();
        }
      }
      assertThat(events.stream().filter(e -> e instanceof ScanEvent.DomainsDiscovered)).hasSize(1);
      assertThat(events.stream().filter(e -> e instanceof ScanEvent.ScanCompleted)).hasSize(1);
      assertThat(second.queries().findings(scanId)).doesNotHaveDuplicates();
    }
  }

  @Test
  void fifty_scans_in_parallel_complete_and_the_read_models_equal_a_rebuild() throws Exception {
    ScanModule module = startModule();
    List<String> scanIds = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      scanIds.add(module.requestScan("parallel" + i + ".example", null, null));
    }
    for (String scanId : scanIds) {
      await("scan completed", () -> status(module, scanId).equals("COMPLETED"));
    }
    List<ScanSummary> live = new ArrayList<>();
    List<Object> liveFindings = new ArrayList<>();
    for (String scanId : scanIds) {
      live.add(module.queries().get(scanId).orElseThrow());
      liveFindings.add(module.queries().findings(scanId));
    }

    Position head = store.headPosition();
    module.projections().rebuild(ScanReadModelProjection.NAME);
    await(
        "rebuilt",
        () ->
            module.projections().status(ScanReadModelProjection.NAME).state()
                    == dev.eventscan.eventstore.projection.ProjectionState.RUNNING
                && module
                        .projections()
                        .status(ScanReadModelProjection.NAME)
                        .position()
                        .compareTo(head)
                    >= 0);

    for (int i = 0; i < scanIds.size(); i++) {
      assertThat(module.queries().get(scanIds.get(i)).orElseThrow()).isEqualTo(live.get(i));
      assertThat((Object) module.queries().findings(scanIds.get(i))).isEqualTo(liveFindings.get(i));
    }
  }

  @Test
  void bad_requests_are_refused_with_typed_exceptions() {
    ScanModule module = startModule();
    assertThatThrownBy(() -> module.requestScan("not a domain", null, null))
        .isInstanceOf(InvalidTargetException.class);
    assertThatThrownBy(() -> module.requestScan("ok.example", "nmap", null))
        .isInstanceOf(InvalidScanCommandException.class)
        .hasMessageContaining("scanner must be one of");
    assertThatThrownBy(() -> module.requestScan("ok.example", null, 99))
        .isInstanceOf(InvalidScanCommandException.class);
    assertThatThrownBy(() -> module.cancel("00000000-0000-0000-0000-000000000000", "x"))
        .isInstanceOf(ScanNotFoundException.class);
    String scanId = module.requestScan("done.example", null, null);
    await("completed", () -> status(module, scanId).equals("COMPLETED"));
    assertThatThrownBy(() -> module.cancel(scanId, "late"))
        .isInstanceOf(InvalidScanTransitionException.class);
    assertThat(module.events(scanId)).extracting(RecordedEvent::streamVersion).isSorted();
  }

  @Test
  void a_scan_requested_and_finished_in_one_delivered_batch_is_not_left_unfinished()
      throws Exception {
    ScanModule module = startModule();
    String scanId = java.util.UUID.randomUUID().toString(); // never appended: only this batch
    String streamId = ScanEventTypes.streamId(scanId);
    List<RecordedEvent> batch =
        List.of(
            new RecordedEvent(
                Position.START,
                java.util.UUID.randomUUID(),
                streamId,
                1,
                ScanEventTypes.SCAN_REQUESTED,
                "{}",
                "{}",
                java.time.Instant.now()),
            new RecordedEvent(
                Position.START,
                java.util.UUID.randomUUID(),
                streamId,
                2,
                ScanEventTypes.SCAN_CANCELLED,
                "{}",
                "{}",
                java.time.Instant.now()));

    try (java.sql.Connection tx = store.dataSource().getConnection()) {
      tx.setAutoCommit(false);
      module.processManager().onEvents(batch, tx);
      tx.commit();
    }

    try (java.sql.Connection c = store.dataSource().getConnection();
        java.sql.PreparedStatement select =
            c.prepareStatement(
                "SELECT count(*) FROM "
                    + TestModules.SCHEMA
                    + ".scan_in_flight WHERE scan_id = ?")) {
      select.setString(1, scanId);
      try (java.sql.ResultSet row = select.executeQuery()) {
        row.next();
        assertThat(row.getLong(1)).as("unfinished scans listed").isZero();
      }
    }
  }
}
