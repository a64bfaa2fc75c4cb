package dev.eventscan.scan.lifecycle;

/** The steps a scan runs, each retried on its own. */
public enum ScanStep {
  DOMAIN_DISCOVERY,
  SUBDOMAIN_DISCOVERY
}
