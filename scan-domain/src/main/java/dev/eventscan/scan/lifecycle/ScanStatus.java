package dev.eventscan.scan.lifecycle;

public enum ScanStatus {
  STARTED,
  DISCOVERING_DOMAINS,
  DISCOVERING_SUBDOMAINS,
  COMPLETED,
  FAILED,
  CANCELLED;

  public boolean isFinal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }
}
