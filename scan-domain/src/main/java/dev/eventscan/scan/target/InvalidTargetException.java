package dev.eventscan.scan.target;

import dev.eventscan.scan.ScanException;

/** The scan target is not a domain name we can scan; the message says why. */
public class InvalidTargetException extends ScanException {
  public InvalidTargetException(String message) {
    super(message);
  }
}
