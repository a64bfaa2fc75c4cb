package dev.eventscan.scan.scanner;

import java.util.List;

/** Associated domains, each with the reason it was associated (e.g. {@code MX}, {@code SPF}). */
public record DomainDiscovery(List<AssociatedDomain> domains) {
  public DomainDiscovery {
    domains = List.copyOf(domains);
  }

  public record AssociatedDomain(String domain, String source) {}
}
