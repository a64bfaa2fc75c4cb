package dev.eventscan.web;

import dev.eventscan.scan.scanner.DomainDiscovery;
import dev.eventscan.scan.scanner.DomainScanner;
import dev.eventscan.scan.scanner.SimulatedScanner;
import dev.eventscan.scan.scanner.SubdomainDiscovery;
import dev.eventscan.scan.target.Target;
import java.time.Duration;

/** The simulator's scanner: simulated results whose failure rate the simulator can change. */
final class AdjustableScanner implements DomainScanner {
  private final Duration latency;
  private volatile SimulatedScanner current;

  AdjustableScanner(Duration latency, double failureRate) {
    this.latency = latency;
    failureRate(failureRate);
  }

  void failureRate(double failureRate) {
    current = new SimulatedScanner(7, latency, failureRate);
  }

  @Override
  public String name() {
    return "simulation";
  }

  @Override
  public DomainDiscovery discoverDomains(Target target) {
    return current.discoverDomains(target);
  }

  @Override
  public SubdomainDiscovery discoverSubdomains(String domain) {
    return current.discoverSubdomains(domain);
  }
}
