package dev.eventscan.scan.scanner;

import dev.eventscan.scan.target.Target;

/**
 * The port through which scans discover things. Implementations may block (network, simulated
 * latency); the process manager calls them on a bounded worker pool with a timeout.
 */
public interface DomainScanner {
  /** The name recorded in scan events, e.g. {@code simulated} or {@code dns}. */
  String name();

  /** Domains associated with the target, the target itself included. */
  DomainDiscovery discoverDomains(Target target) throws ScannerFailedException;

  /** Subdomains of one associated domain. */
  SubdomainDiscovery discoverSubdomains(String domain) throws ScannerFailedException;
}
