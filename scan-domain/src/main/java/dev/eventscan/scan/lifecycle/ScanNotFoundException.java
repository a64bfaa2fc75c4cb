package dev.eventscan.scan.lifecycle;

import dev.eventscan.scan.ScanException;

public class ScanNotFoundException extends ScanException {
  private final String scanId;

  public ScanNotFoundException(String scanId) {
    super("scan " + scanId + " does not exist");
    this.scanId = scanId;
  }

  public String scanId() {
    return scanId;
  }
}
