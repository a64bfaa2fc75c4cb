package dev.eventscan.scan.scanner;

import java.util.List;

/**
 * Subdomains found under one domain.
 *
 * @param wildcard true when a random label resolved: such a domain answers every name, so hits that
 *     only matched the wildcard were discarded
 */
public record SubdomainDiscovery(String domain, List<Finding> findings, boolean wildcard) {
  public SubdomainDiscovery {
    findings = List.copyOf(findings);
  }

  /** One DNS answer for a subdomain: record type (A, AAAA, CNAME) and value. */
  public record Finding(String subdomain, String recordType, String value) {}
}
