package dev.eventscan.scan.readmodel;

/** One associated domain of a scan and how far its subdomain discovery is. */
public record DomainProgress(
    String domain, String source, String status, int attempts, boolean wildcard) {}
