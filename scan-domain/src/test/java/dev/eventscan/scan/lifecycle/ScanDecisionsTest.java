package dev.eventscan.scan.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventscan.scan.lifecycle.ScanCommand.Cancel;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordDomains;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordStepFailure;
import dev.eventscan.scan.lifecycle.ScanCommand.RecordSubdomains;
import dev.eventscan.scan.lifecycle.ScanCommand.RequestScan;
import dev.eventscan.scan.lifecycle.ScanCommand.StartDomainDiscovery;
import dev.eventscan.scan.lifecycle.ScanCommand.StartSubdomainDiscovery;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanCompleted;
import dev.eventscan.scan.lifecycle.ScanEvent.ScanFailed;
import dev.eventscan.scan.lifecycle.ScanEvent.StepAttemptFailed;
import dev.eventscan.scan.lifecycle.ScanState.Finished;
import dev.eventscan.scan.lifecycle.ScanState.Requested;
import dev.eventscan.scan.lifecycle.ScanState.Running;
import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.target.Target;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScanDecisionsTest {
  private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
  private ScanState state = ScanState.NONE;

  private ScanStatus status() {
    return ((Requested) state).status();
  }

  /** The scan's steps, whether it still runs or has ended. */
  private Running lastRunning() {
    return state instanceof Finished finished ? finished.last() : (Running) state;
  }

  private List<ScanEvent> run(ScanCommand command) {
    List<ScanEvent> events = ScanDecisions.decide("s1", state, command);
    for (ScanEvent event : events) {
      state = state.apply(event);
    }
    return events;
  }

  private void requestAndDiscover(String... domains) {
    run(new RequestScan(Target.parse("example.com"), "simulated", 2, NOW));
    run(new StartDomainDiscovery(1, NOW));
    run(
        new RecordDomains(
            java.util.Arrays.stream(domains).map(d -> new AssociatedDomain(d, "MX")).toList(),
            NOW));
  }

  @Test
  void a_scan_moves_through_its_steps_to_a_scored_completion() {
    run(new RequestScan(Target.parse("example.com"), "simulated", 3, NOW));
    assertThat(status()).isEqualTo(ScanStatus.STARTED);
    run(new StartDomainDiscovery(1, NOW));
    assertThat(status()).isEqualTo(ScanStatus.DISCOVERING_DOMAINS);
    run(
        new RecordDomains(
            List.of(
                new AssociatedDomain("example.com", "TARGET"),
                new AssociatedDomain("ex-cdn.net", "MX")),
            NOW));
    assertThat(status()).isEqualTo(ScanStatus.DISCOVERING_SUBDOMAINS);
    run(new StartSubdomainDiscovery("example.com", 1, NOW));
    run(
        new RecordSubdomains(
            "example.com", List.of(new Finding("admin.example.com", "A", "10.0.0.1")), false, NOW));
    assertThat(((Requested) state).progressPercent()).isEqualTo(57);
    run(new StartSubdomainDiscovery("ex-cdn.net", 1, NOW));
    List<ScanEvent> last = run(new RecordSubdomains("ex-cdn.net", List.of(), false, NOW));

    assertThat(last).last().isInstanceOf(ScanCompleted.class);
    assertThat(status()).isEqualTo(ScanStatus.COMPLETED);
    assertThat(((Finished) state).score().score()).isEqualTo(2 + 8 + 2);
    assertThat(((Requested) state).progressPercent()).isEqualTo(100);
  }

  @Test
  void repeated_work_after_a_crash_produces_no_duplicate_events() {
    requestAndDiscover("example.com");
    assertThat(run(new StartDomainDiscovery(1, NOW))).isEmpty();
    assertThat(run(new RecordDomains(List.of(new AssociatedDomain("other.com", "MX")), NOW)))
        .isEmpty();
    run(new StartSubdomainDiscovery("example.com", 1, NOW));
    assertThat(run(new StartSubdomainDiscovery("example.com", 1, NOW))).isEmpty();
    run(new RecordSubdomains("example.com", List.of(), false, NOW));
    assertThat(run(new RecordSubdomains("example.com", List.of(), false, NOW))).isEmpty();
    assertThat(lastRunning().domains())
        .extracting(AssociatedDomain::domain)
        .containsExactly("example.com");
  }

  @Test
  void a_failed_step_is_retried_until_the_limit_then_fails_the_scan() {
    requestAndDiscover("example.com");
    for (int attempt = 1; attempt <= 2; attempt++) {
      run(new StartSubdomainDiscovery("example.com", attempt, NOW));
      List<ScanEvent> failed =
          run(
              new RecordStepFailure(
                  ScanStep.SUBDOMAIN_DISCOVERY,
                  "example.com",
                  attempt,
                  "boom",
                  Duration.ofSeconds(2),
                  NOW));
      assertThat(failed)
          .singleElement()
          .isInstanceOfSatisfying(
              StepAttemptFailed.class,
              e -> assertThat(e.nextRetryAt()).isEqualTo(NOW.plusSeconds(2)));
    }
    run(new StartSubdomainDiscovery("example.com", 3, NOW));
    List<ScanEvent> last =
        run(
            new RecordStepFailure(
                ScanStep.SUBDOMAIN_DISCOVERY,
                "example.com",
                3,
                "boom",
                Duration.ofSeconds(2),
                NOW));

    assertThat(last)
        .hasSize(2)
        .last()
        .isInstanceOfSatisfying(
            ScanFailed.class,
            e -> assertThat(e.reason()).contains("after 3 attempts").contains("example.com"));
    assertThat(status()).isEqualTo(ScanStatus.FAILED);
    assertThat(lastRunning().failedAttempts()).isEqualTo(3);
  }

  @Test
  void results_after_a_cancel_are_ignored_and_a_finished_scan_cannot_be_cancelled() {
    requestAndDiscover("example.com");
    run(new StartSubdomainDiscovery("example.com", 1, NOW));
    run(new Cancel("user asked", NOW));
    assertThat(status()).isEqualTo(ScanStatus.CANCELLED);
    assertThat(run(new RecordSubdomains("example.com", List.of(), false, NOW))).isEmpty();
    assertThat(run(new Cancel("again", NOW))).isEmpty();

    state = ScanState.NONE;
    requestAndDiscover();
    assertThat(status()).isEqualTo(ScanStatus.COMPLETED);
    assertThatThrownBy(() -> run(new Cancel("too late", NOW)))
        .isInstanceOf(InvalidScanTransitionException.class)
        .hasMessageContaining("COMPLETED");
  }

  @Test
  void invalid_requests_are_rejected() {
    assertThatThrownBy(() -> run(new StartDomainDiscovery(1, NOW)))
        .isInstanceOf(InvalidScanTransitionException.class);
    assertThatThrownBy(() -> run(new RequestScan(Target.parse("a.com"), "simulated", 11, NOW)))
        .isInstanceOf(InvalidScanCommandException.class);
    run(new RequestScan(Target.parse("a.com"), "simulated", 1, NOW));
    assertThatThrownBy(() -> run(new RequestScan(Target.parse("a.com"), "simulated", 1, NOW)))
        .isInstanceOf(InvalidScanTransitionException.class);
  }
}
