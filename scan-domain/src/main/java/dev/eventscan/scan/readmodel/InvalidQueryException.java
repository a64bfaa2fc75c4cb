package dev.eventscan.scan.readmodel;

import dev.eventscan.scan.ScanException;

/** A list query with a bad filter, limit or cursor. */
public class InvalidQueryException extends ScanException {
  public InvalidQueryException(String message) {
    super(message);
  }
}
