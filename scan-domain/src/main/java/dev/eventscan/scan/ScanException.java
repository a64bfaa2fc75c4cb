package dev.eventscan.scan;

/** The root of the scan domain's exceptions; all unchecked. */
public abstract class ScanException extends RuntimeException {
  protected ScanException(String message) {
    super(message);
  }

  protected ScanException(String message, Throwable cause) {
    super(message, cause);
  }
}
