package dev.eventscan.scan.scanner;

import dev.eventscan.scan.ScanException;

/** A scanner step failed; the process manager retries it up to the scan's limit. */
public class ScannerFailedException extends ScanException {
  public ScannerFailedException(String message) {
    super(message);
  }

  public ScannerFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
