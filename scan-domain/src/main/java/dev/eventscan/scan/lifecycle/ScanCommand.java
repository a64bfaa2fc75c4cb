package dev.eventscan.scan.lifecycle;

import dev.eventscan.scan.scanner.DomainDiscovery.AssociatedDomain;
import dev.eventscan.scan.scanner.SubdomainDiscovery.Finding;
import dev.eventscan.scan.target.Target;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** What can be asked of a scan. Each carries the time it is decided at, for repeatable tests. */
public sealed interface ScanCommand {
  Instant at();

  record RequestScan(Target target, String scanner, int maxRetries, Instant at)
      implements ScanCommand {}

  record StartDomainDiscovery(int attempt, Instant at) implements ScanCommand {}

  record RecordDomains(List<AssociatedDomain> domains, Instant at) implements ScanCommand {}

  record StartSubdomainDiscovery(String domain, int attempt, Instant at) implements ScanCommand {}

  record RecordSubdomains(String domain, List<Finding> findings, boolean wildcard, Instant at)
      implements ScanCommand {}

  /**
   * @param domain null for domain discovery
   * @param retryDelay how long to wait before the next attempt, if one is left
   */
  record RecordStepFailure(
      ScanStep step, String domain, int attempt, String error, Duration retryDelay, Instant at)
      implements ScanCommand {}

  record Cancel(String reason, Instant at) implements ScanCommand {}
}
