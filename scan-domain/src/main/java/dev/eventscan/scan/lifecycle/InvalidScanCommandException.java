package dev.eventscan.scan.lifecycle;

import dev.eventscan.scan.ScanException;

/** A command's own input is invalid (e.g. a retry limit out of range). */
public class InvalidScanCommandException extends ScanException {
  public InvalidScanCommandException(String message) {
    super(message);
  }
}
