package dev.eventscan.scan.lifecycle;

import dev.eventscan.scan.ScanException;

/** The scan is in a state where this command makes no sense (e.g. cancelling a finished scan). */
public class InvalidScanTransitionException extends ScanException {
  private final String scanId;
  private final ScanStatus status;

  public InvalidScanTransitionException(String scanId, ScanStatus status, String message) {
    super("scan " + scanId + " is " + (status == null ? "unknown" : status) + ": " + message);
    this.scanId = scanId;
    this.status = status;
  }

  public String scanId() {
    return scanId;
  }

  public ScanStatus status() {
    return status;
  }
}
