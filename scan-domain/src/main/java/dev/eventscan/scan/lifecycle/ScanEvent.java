package dev.eventscan.scan.lifecycle;

import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.scoring.ExposureScore;
import java.time.Instant;
import java.util.List;

/** Everything that happens to a scan. Stored in stream {@code scan-<id>}. */
public sealed interface ScanEvent {
  String scanId();

  Instant at();

  /** The request: target, scanner and options. */
  record ScanRequested(String scanId, String target, String scanner, int maxRetries, Instant at)
      implements ScanEvent {}

  record DomainDiscoveryStarted(String scanId, int attempt, Instant at) implements ScanEvent {}

  record DomainsDiscovered(String scanId, List<AssociatedDomain> domains, Instant at)
      implements ScanEvent {
    public DomainsDiscovered {
      domains = List.copyOf(domains);
    }
  }

  record SubdomainDiscoveryStarted(String scanId, String domain, int attempt, Instant at)
      implements ScanEvent {}

  record SubdomainsDiscovered(
      String scanId, String domain, List<Finding> findings, boolean wildcard, Instant at)
      implements ScanEvent {
    public SubdomainsDiscovered {
      findings = List.copyOf(findings);
    }
  }

  /**
   * One failed attempt of a step.
   *
   * @param domain the domain for subdomain discovery; null for domain discovery
   * @param nextRetryAt when the next attempt runs; null when no attempt is left
   */
  record StepAttemptFailed(
      String scanId,
      ScanStep step,
      String domain,
      int attempt,
      String error,
      Instant nextRetryAt,
      Instant at)
      implements ScanEvent {}

  record ScanCompleted(String scanId, ExposureScore score, Instant at) implements ScanEvent {}

  record ScanFailed(String scanId, ScanStep step, String reason, Instant at) implements ScanEvent {}

  record ScanCancelled(String scanId, String reason, Instant at) implements ScanEvent {}
}
